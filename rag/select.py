"""Answer selection: ranks the sentences of the retrieved passages by whether they answer the question.

The stage between retrieval and generation. Similarity alone picks sentences that repeat the
question; a sentence that answers also holds a candidate of the expected type (a date for "Wann",
a number for "Wie viele"), adds words the question lacks, shares the question's rare words, and
often leans on its neighbours. These features are combined by a linear scorer fitted on the
benchmark's questions with cross-validation by article (`python -m eval.fit_select`); its
weights live in `select_weights.json` beside this module.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.align import SHORTLIST, Aligner
from rag.answer_type import has_candidate, question_type
from rag.embed import Embedder, TokenEncoder
from rag.lang import detect
from rag.lexical import stems
from rag.sentences import sentences
from rag.types import Hit

WEIGHTS = Path(__file__).with_name("select_weights.json")
FEATURES = (
    "sim",
    "sim_gap",
    "sim_prev",
    "sim_next",
    "sim_win",
    "lex",
    "lex_idf",
    "lex_ctx",
    "novel",
    "type_hit",
    "type_miss",
    "rank",
    "anaphor",
    "en_sim",
    "en_lex_idf",
    "en_align",
    "en_align_win",
)
# The alignment columns (`rag.align`): measured for an English question's shortlist only.
ALIGN = slice(FEATURES.index("en_align"), FEATURES.index("en_align_win") + 1)
# Sources read for sentences; the retriever ranks them, the tail rarely holds the answer.
SOURCES = 8
# Shorter "sentences" are headings, datelines or captions.
_MIN_CHARS = 30
_CACHE = 4096
# A sentence that opens with one of these leans on the sentence before it ("Beide Länder …") …
_ANAPHORA = re.compile(
    r"^(dabei|damit|dazu|daran|darauf|dort|damals|dies\w*|beide\w*|er|sie|es|ihr\w*|sein\w*|deren|dessen|"
    r"diese[rsnm]?|this|these|they|he|she|it|its|their|there|both|the two)\b",
    re.IGNORECASE,
)
# … and so does one whose first words refer back with a pronominal adverb ("handelte es sich dabei um"),
# a "since then" or "both" ("Seitdem haben beide Länder …": which two, the sentence before says).
_BACK_REFERENCE = re.compile(
    r"\b(dabei|damit|dadurch|daraufhin|dort|damals|diese[mnrs]?|dieses|seitdem|seither|beide[n]?|since then|both)\b",
    re.IGNORECASE,
)
_LEAD_WORDS = 10
# … and so does one whose subject is "er" or "sie" right after the verb, as German word order puts
# it ("Übernommen hatte er es …": who, the sentence before says); not after a comma ("Der Minister
# sagte, er …" names him itself).
_PRONOUN_SUBJECT = re.compile(r"\b(er|sie)\b")
_SUBJECT_WORDS = 4


def leans_back(sentence: str) -> bool:
    """Whether the sentence needs the one before it to be understood (the scorer's `anaphor` feature)."""
    lead = " ".join(sentence.split()[:_LEAD_WORDS])
    return bool(_ANAPHORA.match(sentence) or _BACK_REFERENCE.search(lead))


def needs_antecedent(sentence: str) -> bool:
    """Whether a quote of the sentence should begin with the sentence before it: `leans_back`, or
    a pronoun subject after the verb. Only for quoting: as a scoring feature the pronoun rule cost
    a question on each set (`python -m eval --answers`)."""
    words = sentence.split()
    return leans_back(sentence) or bool(_PRONOUN_SUBJECT.search(" ".join(words[1:_SUBJECT_WORDS]).split(",")[0]))


@dataclass(frozen=True, eq=False)
class Candidate:
    """A quotable sentence of a source, with the span to quote and its answer score."""

    source: int  # 1-based source number
    doc: str
    start: int  # absolute offset of the quote in the document (may include a leaned-on sentence)
    end: int
    text: str  # the quote: document text[start:end]
    score: float
    vec: np.ndarray
    features: tuple[float, ...] = ()  # in `FEATURES` order; the refusal decision reads them


def load_weights(part: str = "weights", path: Path = WEIGHTS) -> dict[str, float]:
    """One fitted model's weights and bias ("weights": sentence scorer, "refuse": refusal model)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {k: float(v) for k, v in raw.get(part, {}).items()}


@dataclass
class _Sentence:
    source: int
    doc: str
    start: int
    end: int
    text: str
    prev: int  # index of the previous sentence of the same chunk in the sentence list, or -1
    next: int
    quotable: bool


class Selector:
    """Scores every quotable sentence of the top sources; thread-safe, caches sentence vectors."""

    def __init__(
        self, embedder: Embedder, weights: dict[str, float] | None = None, shortlist: dict[str, float] | None = None
    ) -> None:
        self.embedder = embedder
        self.weights = weights if weights is not None else load_weights()
        # The first stage: a scorer without the alignment features picks the English question's
        # sentences to align, and ranks them when the embedder gives no token states. A weights
        # file from before the alignment has no such part; its one scorer is both stages then.
        if shortlist is None:
            shortlist = (load_weights("shortlist") if weights is None else None) or self.weights
        self.first = shortlist
        self._w = np.array([self.weights.get(f, 0.0) for f in FEATURES])
        self._w1 = np.array([self.first.get(f, 0.0) for f in FEATURES])
        self.aligner = Aligner(embedder) if isinstance(embedder, TokenEncoder) else None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def rank(self, question: str, sources: Sequence[Hit], vector: np.ndarray | None = None) -> list[Candidate]:
        """Candidates best first; `vector` is the question's, when retrieval has embedded it already."""
        sents, feats, vecs = self.features(question, sources, vector)
        if not sents:
            return []
        unaligned = feats[:, FEATURES.index("en_sim")].any() and not feats[:, FEATURES.index("en_align")].any()
        w, bias = (self._w1, self.first.get("bias", 0.0)) if unaligned else (self._w, self.weights.get("bias", 0.0))
        scores = feats @ w + bias
        order = np.argsort(-scores, kind="stable")
        return [self._candidate(sents[i], float(scores[i]), vecs[i], feats[i]) for i in order]

    def features(
        self, question: str, sources: Sequence[Hit], vector: np.ndarray | None = None, shortlist: int | None = SHORTLIST
    ) -> tuple[list[_Sentence], np.ndarray, np.ndarray]:
        """(quotable sentences, feature matrix in `FEATURES` order, their vectors).

        An English question's alignment features are measured on the first stage's `shortlist`
        best sentences (all with None); the others get the lowest of those.
        """
        every = _split_sources(sources[:SOURCES])
        quotable = [i for i, s in enumerate(every) if s.quotable]
        if not quotable:
            return [], np.zeros((0, len(FEATURES))), np.zeros((0, 1))
        q = np.asarray(self.embedder.embed_queries([question])[0] if vector is None else vector)
        vecs = self._embed([s.text for s in every])
        sim_all = vecs @ q
        sim_win = self._window_similarity(every, vecs, quotable, q)
        q_stems = stems(question)
        sent_stems = [stems(s.text) for s in every]
        idf = _idf([sent_stems[i] for i in quotable])
        kind = question_type(question)
        is_en = 1.0 if detect(question) == "en" else 0.0
        rows = []
        for k, i in enumerate(quotable):
            s = every[i]
            ctx = sent_stems[i] | (sent_stems[s.prev] if s.prev >= 0 else set())
            lex_idf = _weighted_overlap(q_stems, sent_stems[i], idf)
            typed = kind != "other"
            found = typed and has_candidate(kind, s.text, question)
            rows.append(
                [
                    sim_all[i],
                    0.0,  # sim_gap, filled below
                    sim_all[s.prev] if s.prev >= 0 else 0.0,
                    sim_all[s.next] if s.next >= 0 else 0.0,
                    sim_win[k],
                    _overlap(q_stems, sent_stems[i]),
                    lex_idf,
                    _overlap(q_stems, ctx),
                    len(sent_stems[i] - q_stems) / len(sent_stems[i]) if sent_stems[i] else 0.0,
                    float(found),
                    float(typed and not found),
                    1.0 / s.source,
                    float(leans_back(s.text)),
                    is_en * sim_all[i],
                    is_en * lex_idf,
                    0.0,  # en_align, en_align_win: filled below
                    0.0,
                ]
            )
        feats = np.array(rows, dtype=float)
        feats[:, 1] = feats[:, 0] - feats[:, 0].max()
        if is_en and self.aligner is not None and self.aligner.available:
            self._align(question, every, quotable, feats, shortlist)
        return [every[i] for i in quotable], feats, vecs[quotable]

    def _align(
        self, question: str, every: list[_Sentence], quotable: list[int], feats: np.ndarray, shortlist: int | None
    ) -> None:
        """Fill the alignment columns of `feats` in place (`rag.align`)."""
        assert self.aligner is not None
        top = shortlisted(feats, self._w1, shortlist)
        sents = [every[quotable[k]] for k in top]
        cover = self.aligner.coverage(
            question, [s.text for s in sents], [every[s.prev].text if s.prev >= 0 else None for s in sents]
        )
        if cover is not None:
            fill_alignment(feats, top, cover)

    @staticmethod
    def _window_similarity(every: list[_Sentence], vecs: np.ndarray, quotable: list[int], q: np.ndarray) -> np.ndarray:
        """Similarity of each quotable sentence read with the one before it ("Dieses wurde … genannt"
        needs its antecedent), from the two sentences' vectors: the normalised sum of the vectors.
        Embedding each window's text instead ranked no better (`python -m eval.fit_select`, top-1
        cross-validated 0.659 / 0.705 on dev / xquad-de either way) and cost most of an answer's
        time."""
        prev = [every[i].prev for i in quotable]
        pairs = vecs[quotable] + np.where(np.array(prev)[:, None] >= 0, vecs[prev], 0.0)
        pairs /= np.linalg.norm(pairs, axis=1, keepdims=True)
        return pairs @ q

    @staticmethod
    def _candidate(s: _Sentence, score: float, vec: np.ndarray, feats: np.ndarray) -> Candidate:
        return Candidate(s.source, s.doc, s.start, s.end, s.text, score, vec, tuple(float(x) for x in feats))

    def remember(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Take sentence vectors the index already holds (`Retrieval.sentences`), so `rank` need not
        embed those sentences: the cost of a question whose passages are not cached yet."""
        with self._lock:
            for t, v in vectors.items():
                if t not in self._cache:
                    self._cache[t] = v
            while len(self._cache) > _CACHE:
                self._cache.popitem(last=False)

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Passage vectors, cached: the same sentences come back for related questions."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        fresh = dict(zip(missing, self.embedder.embed_passages(missing), strict=True)) if missing else {}
        with self._lock:
            for t, v in fresh.items():
                self._cache[t] = np.asarray(v)
            out = np.stack([self._cache[t] if t in self._cache else fresh[t] for t in texts])
            for t in texts:
                if t in self._cache:
                    self._cache.move_to_end(t)
            while len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        return out


def without_alignment(feats: np.ndarray) -> np.ndarray:
    """The features as the first stage reads them: the alignment columns zeroed."""
    x = feats.copy()
    x[:, ALIGN] = 0.0
    return x


def shortlisted(feats: np.ndarray, first: np.ndarray, k: int | None) -> np.ndarray:
    """The rows the first stage (weights `first`) ranks best: the sentences the alignment reads."""
    return np.argsort(-(without_alignment(feats) @ first), kind="stable")[:k]


def fill_alignment(feats: np.ndarray, top: np.ndarray, cover: np.ndarray) -> None:
    """The alignment of the shortlisted rows `top` into `feats`, in place; every other row gets
    their lowest, so a sentence left unread neither gains nor loses against the shortlist's weakest."""
    feats[:, ALIGN] = cover.min(axis=0)
    feats[top, ALIGN] = cover


def with_antecedent(c: Candidate, sources: Sequence[Hit], depth: int = 2) -> Candidate:
    """The candidate, quoting the sentence before it too when it opens with "Dabei", "Beide Länder" …

    Up to `depth` sentences back (an antecedent may lean back itself), only within the same
    paragraph of the same passage, so the quote stays one exact span of the source.
    """
    chunk = sources[c.source - 1].chunk
    before = [(s, e, t) for s, e, t in sentences(chunk.text) if chunk.start + e <= c.start]
    start, lead = c.start, c.text
    while before and depth > 0 and needs_antecedent(lead):
        s, e, lead = before.pop()
        if "\n" in chunk.text[e : start - chunk.start]:
            break  # a heading or another paragraph
        start, depth = chunk.start + s, depth - 1
    return c if start == c.start else spanning(c, sources, start, c.end)


def spanning(c: Candidate, sources: Sequence[Hit], start: int, end: int, score: float | None = None) -> Candidate:
    """The candidate quoting its source from `start` to `end` (absolute offsets inside its passage)."""
    chunk = sources[c.source - 1].chunk
    text = chunk.text[start - chunk.start : end - chunk.start]
    return dataclasses.replace(c, start=start, end=end, text=text, score=c.score if score is None else score)


def _split_sources(sources: Sequence[Hit]) -> list[_Sentence]:
    """Every sentence of the sources once (overlapping chunks repeat sentences), with neighbours."""
    out: list[_Sentence] = []
    seen: set[tuple[str, int]] = set()
    for n, hit in enumerate(sources, 1):
        ch = hit.chunk
        first = len(out)
        for s, e, text in sentences(ch.text):
            key = (ch.doc_id, ch.start + s)
            quotable = key not in seen and _quotable(text)
            seen.add(key)
            out.append(_Sentence(n, ch.doc_id, ch.start + s, ch.start + e, text, len(out) - 1, len(out) + 1, quotable))
        if len(out) > first:
            out[first].prev = -1
            out[-1].next = -1
    return out


def _quotable(sentence: str) -> bool:
    """Whole sentences only: headings and photo captions carry no terminal punctuation."""
    return len(sentence) >= _MIN_CHARS and sentence.rstrip("\"'“”»« )").endswith((".", "!", "?"))


def _matches(q: str, sentence: set[str]) -> bool:
    """A question stem occurs in the sentence, also as the end of a compound ("Marinemanöver")."""
    return any(w == q or (len(q) >= 5 and w.endswith(q)) for w in sentence)


def _overlap(question: set[str], sentence: set[str]) -> float:
    """Share of the question's stems in the sentence."""
    return sum(_matches(q, sentence) for q in question) / len(question) if question else 0.0


def _idf(docs: list[set[str]]) -> dict[str, float]:
    """Inverse document frequency over the candidate sentences: the question's rare words weigh most."""
    n = len(docs)
    df: dict[str, int] = {}
    for d in docs:
        for w in d:
            df[w] = df.get(w, 0) + 1
    return {w: float(np.log((n + 1) / (c + 0.5))) for w, c in df.items()}


def _weighted_overlap(question: set[str], sentence: set[str], idf: dict[str, float]) -> float:
    """Share of the question's idf mass found in the sentence (unknown words weigh as the rarest)."""
    if not question:
        return 0.0
    top = max(idf.values(), default=1.0)
    weights = {q: idf.get(q, top) for q in question}
    total = sum(weights.values()) or 1.0
    return sum(w for q, w in weights.items() if _matches(q, sentence)) / total
