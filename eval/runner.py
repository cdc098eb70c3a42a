"""Run retrieval (and optionally answers) for named configurations and compute every metric.

Configurations that share chunking share one temporary index; the model loads once per run.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

import ir_measures
from ir_measures import RR, R, nDCG

from eval.metrics import Span, evidence_run, recall_in_budget
from eval.questions_io import Question, load_docs
from eval.sets import QuestionSet, indexed
from rag.config import Settings, convert
from rag.embed import Embedder
from rag.pipeline import Assistant

MEASURES = [RR @ 10, nDCG @ 10, R @ 1, R @ 3, R @ 5, R @ 10]
NAMES = {RR @ 10: "MRR@10", nDCG @ 10: "nDCG@10", R @ 1: "R@1", R @ 3: "R@3", R @ 5: "R@5", R @ 10: "R@10"}
BUDGETS = (1000, 2000)
MIN_COVER = 0.8  # a chunk boundary may cut a fifth of a quote and the hit still counts


@dataclass(frozen=True)
class Config:
    """A named set of Settings overrides, e.g. `Config("dense", {"retrieval": "dense"})`."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self, base: Settings) -> Settings:
        return dataclasses.replace(base, **self.overrides)


@dataclass
class Result:
    config: Config
    set: str
    overall: dict[str, float]
    by_lang: dict[str, dict[str, float]]
    by_type: dict[str, dict[str, float]]
    answers: dict[str, Any] = field(default_factory=dict)


def parse_config(text: str) -> Config:
    """`name` of a preset, or `name:key=value,key=value` with Settings field names."""
    name, _, spec = text.partition(":")
    if not spec:
        return PRESETS.get(name) or Config(name)
    fields = {f.name: f.type for f in dataclasses.fields(Settings)}
    overrides: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        if key not in fields:
            raise ValueError(f"unknown setting {key!r} in config {text!r}")
        kind = type(getattr(Settings(), key))
        overrides[key] = convert(key, value, kind)
    return Config(name, overrides)


PRESETS = {
    "default": Config("default"),
    # The fixed reference: the chunk vectors alone.
    "dense": Config("dense", {"retrieval": "dense", "sentence_weight": 0.0, "rerank": 0.0}),
    "dense-sentences": Config("dense-sentences", {"retrieval": "dense", "rerank": 0.0}),
    "lexical": Config("lexical", {"retrieval": "lexical", "rerank": 0.0}),
    # The default's retrieval alone, in the retriever's order (before `rag.rerank`).
    "retriever": Config("retriever", {"rerank": 0.0}),
    # The default before sentence vectors (issue 13): chunk cosine plus the BM25 bonus.
    "chunks": Config("chunks", {"sentence_weight": 0.0, "rerank": 0.0}),
    # The default before issue 13: rank fusion, BM25 scaled by known words only (English too).
    "rrf-coverage": Config(
        "rrf-coverage",
        {
            "retrieval": "hybrid",
            "fusion": "rrf",
            "dense_weight": 0.6,
            "rrf_k": 20,
            "adaptive": "coverage",
            "sentence_weight": 0.0,
            "rerank": 0.0,
        },
    ),
    # Rank fusion with the language-aware weight of the default.
    "rrf-language": Config(
        "rrf-language",
        {"retrieval": "hybrid", "fusion": "rrf", "dense_weight": 0.6, "rrf_k": 20, "adaptive": "language"},
    ),
    # The default's boost fusion without a bonus for English questions.
    "boost-en0": Config("boost-en0", {"retrieval": "hybrid", "fusion": "boost", "lexical_boost_en": 0.0}),
    "rrf-equal": Config(
        "rrf-equal", {"retrieval": "hybrid", "fusion": "rrf", "dense_weight": 0.5, "rrf_k": 60, "adaptive": "off"}
    ),
}


def evaluate(
    configs: Sequence[Config],
    qset: QuestionSet,
    base: Settings,
    answers: bool = False,
    tick: Callable[[], None] = lambda: None,
    embedder: Embedder | None = None,
) -> list[Result]:
    """Score every config on one question set; `tick` is called once per question and config.

    Configurations that share chunking (sentence vectors or not, the indexing encoder) share one
    temporary index of the set's articles.
    """
    questions = qset.load()
    groups: dict[tuple[int, int, float, bool, str], list[Config]] = defaultdict(list)
    for c in configs:
        s = c.settings(base)  # what the index holds: the chunks, and whether sentence vectors too
        groups[(s.chunk_size, s.chunk_overlap, s.paragraph_ratio, s.sentence_vectors, s.index_bf16)].append(c)
    results: dict[str, Result] = {}
    for group in groups.values():
        with indexed(qset, group[0].settings(base), embedder) as first:
            embedder = first.embedder
            for c in group:
                settings = dataclasses.replace(
                    c.settings(base), data_dir=first.settings.data_dir, seeds_dir=qset.corpus, chroma_url=""
                )
                a = first if c is group[0] else Assistant(settings, embedder=embedder)
                results[c.name] = score_config(a, c, qset, questions, answers, tick)
    return [results[c.name] for c in configs]


def score_config(
    a: Assistant, c: Config, qset: QuestionSet, questions: Sequence[Question], answers: bool, tick: Callable
) -> Result:
    k = max(10, a.settings.top_k)
    runs: dict[str, list[Span]] = {}
    for q in questions:
        if q.answerable:
            runs[q.id] = [Span(h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in a.search(q.question, k=k)]
        tick()
    answerable = [q for q in questions if q.answerable]

    def block(qs: Sequence[Question]) -> dict[str, float]:
        return retrieval_metrics({q.id: runs[q.id] for q in qs}, {q.id: q.evidence for q in qs})

    by_lang = {lang: block([q for q in answerable if q.lang == lang]) for lang in sorted({q.lang for q in answerable})}
    by_type = {t: block([q for q in answerable if q.type == t]) for t in sorted({q.type for q in answerable})}
    result = Result(c, qset.name, block(answerable), by_lang, by_type)
    if answers:
        from eval.answers import answer_metrics

        result.answers = answer_metrics(a, questions, load_docs(qset.corpus))
    return result


def retrieval_metrics(runs: dict[str, list[Span]], evidence: dict[str, Sequence[Span]]) -> dict[str, float]:
    """ir-measures over evidence-id runs, plus recall within character budgets."""
    if not runs:
        return {}
    agg = ir_measures.calc_aggregate(MEASURES, *evidence_run(runs, evidence, MIN_COVER))
    out = {NAMES[m]: float(agg.get(m, 0.0)) for m in MEASURES}
    for budget in BUDGETS:
        out[f"R@{budget}c"] = mean(recall_in_budget(runs[q], evidence[q], budget, MIN_COVER) for q in runs)
    out["n"] = len(runs)
    return out
