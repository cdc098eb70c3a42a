"""The default generator: quotes the sentences that answer the question, the best one first.

No language model beyond the embedder, so it runs anywhere and every word of the answer is in an
article. The answer selection stage (`rag.select`) ranks the sentences; this module picks the
best one and the near-best ones from other articles (so "Welche Länder hielten Manöver ab?"
draws on every article with maneuvers), groups them by article with outlet and date, and cites
each sentence's exact character span.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from rag.answer_type import asks_for_list
from rag.config import Settings
from rag.embed import Embedder
from rag.select import Candidate, spanning, with_antecedent
from rag.sentences import split
from rag.types import Hit

# A list question ("Welche Länder …?") takes sentences from further below the best one: each
# article names its own participants, and none of them is the whole answer.
LIST_MARGIN = 3.0
# A further sentence of a quoted passage joins its quote with at most this many sentences between
# them (quoted too): python -m eval --answers, facts named dev / xquad-de 0.793 / 0.780 with one
# sentence per passage, 0.866 / 0.832 with neighbours (0), 0.890 / 0.844 with one between, for
# 14–17 characters more per answer.
NEAR = 1
# Sentences more similar than this to one already chosen add nothing.
_DUPLICATE = 0.95


class ExtractiveGenerator:
    """Orders and cites the selected sentences; deterministic for a given index and question."""

    name = "extractive"

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.limit = settings.answer_sentences
        self.margin = settings.answer_margin

    def generate(
        self, question: str, sources: Sequence[Hit], lang: str, evidence: Sequence[Candidate] = ()
    ) -> Iterator[str]:
        margin = max(self.margin, LIST_MARGIN) if asks_for_list(question) else self.margin
        picked = choose(evidence, self.limit, margin, lambda a, b: _near(a, b, sources))
        chosen = [with_antecedent(c, sources) for c in _joined(picked, sources)]
        for i, c in enumerate(chosen):
            if i and c.doc == chosen[i - 1].doc:
                yield f" {c.text} [{c.source}]"
                continue
            label = _label(sources[c.source - 1])
            yield f"{'' if i == 0 else chr(10) * 2}{label + ': ' if label else ''}{c.text} [{c.source}]"


def choose(
    ranked: Sequence[Candidate],
    limit: int,
    margin: float = 1.0,
    near: Callable[[Candidate, Candidate], bool] = lambda a, b: False,
) -> list[Candidate]:
    """The best sentence first; then near-best ones, one per new article before seconds of any.

    After the first, sentences are grouped by article (in the order the articles first matter)
    and follow each other in reading order, so the answer reads as quotes, not as a shuffle.
    A further sentence of a source is taken only when it is `near` one already taken from it:
    `_joined` then quotes the run between them as one span, so each [n] still points at one
    quote. (The answer often sits next to the best-scored sentence: "Die Spanier benannten das
    Fort in San Mateo um." after the attack on Fort Caroline.)
    """
    if not ranked:
        return []
    best = ranked[0]
    close = [c for c in ranked if c.score >= best.score - margin]
    picked: list[Candidate] = []
    for pass_new_docs in (True, False):
        for c in close:
            if len(picked) >= limit:
                break
            if c in picked or (pass_new_docs and any(p.doc == c.doc for p in picked)):
                continue
            same = [p for p in picked if p.source == c.source]
            if same and not any(near(p, c) for p in same):
                continue  # one span per source keeps each [n] pointing at one quote
            if all(float(p.vec @ c.vec) < _DUPLICATE for p in picked):
                picked.append(c)
    doc_order = {d: i for i, d in reversed(list(enumerate(c.doc for c in picked)))}
    return sorted(picked, key=lambda c: (doc_order[c.doc], c is not best, c.start))


def _near(a: Candidate, b: Candidate, sources: Sequence[Hit]) -> bool:
    """Whether two sentences of one source stand at most `NEAR` sentences apart, so that quoting
    the run from one to the other adds at most that much unscored text."""
    if a.source != b.source:
        return False
    first, second = (a, b) if a.start < b.start else (b, a)
    chunk = sources[a.source - 1].chunk
    between = chunk.text[first.end - chunk.start : second.start - chunk.start]
    return first.end <= second.start and len(split(between)) <= NEAR


def _joined(picked: Sequence[Candidate], sources: Sequence[Hit]) -> list[Candidate]:
    """Sentences of one source as one quote, where the first of them stands.

    `choose` admits a further sentence of a source only near one it took; the run from the first
    to the last of them is an exact span of the source.
    """
    out: list[Candidate] = []
    at: dict[int, int] = {}
    for c in picked:
        if c.source not in at:
            at[c.source] = len(out)
            out.append(c)
            continue
        last = out[at[c.source]]
        start, end = min(last.start, c.start), max(last.end, c.end)
        out[at[c.source]] = spanning(last, sources, start, end, max(last.score, c.score))
    return out


def _label(hit: Hit) -> str:
    """ "DW, 2. November 2013": who said it and when, since quoted sentences rarely carry a date.

    An article without outlet and date is named by its title, so the reader knows whose "beide
    Länder" the quote speaks of.
    """
    a = hit.chunk.article
    return a.where or a.title


def create(settings: Settings, embedder: Embedder) -> ExtractiveGenerator:
    return ExtractiveGenerator(settings, embedder)
