"""Check an answer's `[n]` markers against the sources and turn them into exact citations.

Every generator's text goes through here: markers pointing at sources that were never given are
dropped, each remaining marker becomes a citation of the sentence in source n that best supports
the claim, and claims with no marker or no overlap with their source are flagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.sentences import split
from rag.types import Citation, Hit

_MARKERS = re.compile(r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])+")
_NUM = re.compile(r"\d+")
# Words of three letters or more carry content; "in", "am", "zu", "of" would make any claim overlap.
_WORD = re.compile(r"\w{3,}")
# Text after the last marker shorter than this (characters) is a closing word, not a claim to flag.
_MIN_TAIL_CLAIM = 20
# Share of a claim's words that must occur in the cited sentence for it to count as supported.
_SUPPORT = 0.3


@dataclass(frozen=True)
class Checked:
    """An answer after checking: cleaned text, its citations and the claims nothing supports."""

    text: str
    citations: tuple[Citation, ...]
    unsupported: tuple[str, ...]


def check(text: str, sources: Sequence[Hit]) -> Checked:
    """Validate markers, cite exact sentence spans, flag unsupported claims."""
    out: list[str] = []
    best: dict[int, tuple[float, int, int]] = {}
    unsupported: list[str] = []
    pos = 0
    for m in _MARKERS.finditer(text):
        claim = text[pos : m.start()]
        valid = [n for n in dict.fromkeys(map(int, _NUM.findall(m.group()))) if 1 <= n <= len(sources)]
        supported = False
        for n in valid:
            score, start, end = _support(claim, sources[n - 1])
            supported |= score >= _SUPPORT
            if n not in best or score > best[n][0]:
                best[n] = (score, start, end)
        if not supported and _WORD.search(claim):
            unsupported.append(_clean(claim))
        out.append(claim + "".join(f" [{n}]" for n in valid))
        pos = m.end()
    tail = text[pos:]
    if _WORD.search(tail) and len(tail.strip()) > _MIN_TAIL_CLAIM:
        unsupported.append(_clean(tail))
    out.append(tail)
    citations = tuple(_citation(n, sources[n - 1], s, e) for n, (_, s, e) in sorted(best.items()))
    return Checked("".join(out).strip(), citations, tuple(unsupported))


def _clean(claim: str) -> str:
    """A claim as the reader sees it, without the punctuation left over from the previous one."""
    return claim.strip().lstrip(".!?;:, ").strip()


def _support(claim: str, hit: Hit) -> tuple[float, int, int]:
    """Best sentence of the source for the claim: (word overlap share, absolute start, end)."""
    text = hit.chunk.text
    words = {w.lower() for w in _WORD.findall(claim)}
    best = (0.0, 0, len(text))  # no overlap at all: cite the whole passage
    quoted = _verbatim(claim.strip(), text)
    if quoted is not None:
        i = text.index(quoted)
        best = (1.0, i, i + len(quoted))
    elif words:
        for s, e in split(text):
            share = len(words & {w.lower() for w in _WORD.findall(text[s:e])}) / len(words)
            if share > best[0]:
                best = (share, s, e)
    score, s, e = best
    return score, hit.chunk.start + s, hit.chunk.start + e


def _verbatim(claim: str, text: str) -> str | None:
    """The claim, or its part after a "DW, 2013-11-02: " label, when it is an exact span of `text`.

    A quote of two sentences is then cited as the whole span it is, not as its best sentence.
    """
    tails = [claim] + [claim[m.end() :] for m in re.finditer(r": ", claim)]
    return next((t for t in tails if t and t in text), None)


def _citation(n: int, hit: Hit, start: int, end: int) -> Citation:
    c = hit.chunk
    return Citation(n, c.doc_id, start, end, c.text[start - c.start : end - c.start], **c.article.as_dict())
