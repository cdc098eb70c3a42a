"""Fit the answer-selection scorer: `python -m eval.fit_select [--write]`.

For every answerable question of both sets (the dev questions over `seeds/`, the benchmark), the
selection stage's features of each candidate sentence are labelled by whether the sentence holds
the question's evidence. A linear scorer is fitted with a softmax over each question's candidates
(the right sentence should come first) and L2 regularisation, and evaluated with cross-validation
by article: folds never split an article, so a figure never comes from a fit that saw it.
`--write` stores the weights fitted on all articles in `rag/select_weights.json`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.metrics import Span
from eval.questions_io import Question
from eval.sets import SETS, indexed
from rag import answerable, select
from rag.align import SHORTLIST
from rag.config import Settings
from rag.embed import Embedder
from rag.select import ALIGN, FEATURES, WEIGHTS, Candidate, Selector

FOLDS = 5
L2 = 1e-5
# Refusing a question the articles answer costs the reader more than a weak answer whose sources show it.
MIN_ANSWERED = 0.97
# The scorer the extractive generator used before: e5 similarity plus 0.2 × word overlap.
BEFORE = {"sim": 1.0, "lex": 0.2}


@dataclass
class Group:
    """One question's candidates (features, labels) and what the refusal model needs of it."""

    set: str
    lang: str
    article: str  # the evidence's article; for unanswerable questions, the question pair's id
    x: np.ndarray
    y: np.ndarray
    answerable: bool
    question: str
    support: float
    unknown: list[str]


def collect(settings: Settings) -> list[Group]:
    """Candidate features and labels of every question of both sets."""
    groups: list[Group] = []
    embedder: Embedder | None = None
    for qset in SETS.values():
        with indexed(qset, settings, embedder) as a:
            embedder = a.embedder
            selector = Selector(a.embedder, weights={})
            for q in tqdm(qset.load(), desc=qset.name, unit="q", disable=not sys.stderr.isatty()):
                found = a.retriever.retrieve(q.question)
                sents, x, _ = selector.features(q.question, found.hits, shortlist=None)
                y = np.array([_holds(Span(s.doc, s.start, s.end), q) for s in sents], dtype=float)
                article = q.evidence[0].doc if q.evidence else q.id.rsplit("-", 1)[0]
                unknown = a.retriever.lexical.unknown_words(q.question)
                groups.append(Group(qset.name, q.lang, article, x, y, q.answerable, q.question, found.support, unknown))
    return groups


def _holds(sentence: Span, q: Question) -> bool:
    """The sentence holds (most of) an evidence quote, or the quote is (most of) the sentence."""
    return any(e.cover(sentence) >= 0.5 or sentence.cover(e) >= 0.5 for e in q.evidence)


def fit(groups: Sequence[Group], l2: float = L2, steps: int = 1500) -> np.ndarray:
    """Sentence weights maximising the softmax probability of the labelled sentences.

    Adam on the full batch; all questions' candidates are stacked into one matrix, and the
    per-question softmax runs over segments of it.
    """
    usable = [g for g in groups if g.y.any() and len(g.y) > 1]
    x = np.vstack([g.x for g in usable])
    target = np.concatenate([g.y / g.y.sum() for g in usable])
    seg = np.repeat(np.arange(len(usable)), [len(g.y) for g in usable])
    starts = np.r_[0, np.cumsum([len(g.y) for g in usable])[:-1]]
    w = np.zeros(x.shape[1])
    w[FEATURES.index("sim")] = 10.0  # start from similarity ranking
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        s = x @ w
        e = np.exp(s - np.maximum.reduceat(s, starts)[seg])
        p = e / np.add.reduceat(e, starts)[seg]
        grad = l2 * w + x.T @ (p - target) / len(usable)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w


def shortlisted(g: Group, w0: np.ndarray) -> Group:
    """The group as the selector sees it: alignment (collected for every candidate) kept for the
    first stage's `SHORTLIST` best sentences only, as `Selector.features` measures it."""
    x = g.x.copy()
    if len(x) and x[:, ALIGN].any():
        top = select.shortlisted(x, w0, SHORTLIST)
        select.fill_alignment(x, top, g.x[top, ALIGN])
    return dataclasses.replace(g, x=x)


def fit_two(groups: Sequence[Group]) -> tuple[np.ndarray, np.ndarray]:
    """The first stage's weights (no alignment features) and the final scorer's, fitted on the
    groups as the first stage shortlists them."""
    w0 = fit([dataclasses.replace(g, x=select.without_alignment(g.x)) for g in groups])
    return w0, fit([shortlisted(g, w0) for g in groups])


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 2000) -> np.ndarray:
    """Logistic regression (last weight is the bias), classes weighted equally.

    Fitted on standardised features (they range from 0–1 shares to scores in the tens), then
    returned in the raw features' units.
    """
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    xb = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    sample = np.where(y > 0, 0.5 / max(y.sum(), 1), 0.5 / max((1 - y).sum(), 1))
    w = np.zeros(xb.shape[1])
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ ((p - y) * sample) + l2 * np.r_[w[:-1], 0.0]
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    raw = w[:-1] / std
    return np.r_[raw, w[-1] - float(raw @ mean)]


def refusal_rows(groups: Sequence[Group], w: np.ndarray) -> np.ndarray:
    """The refusal model's features of each question, its best sentence chosen by weights `w`."""
    rows = []
    for g in groups:
        best = None
        if len(g.y):
            i = int(np.argmax(g.x @ w))
            best = Candidate(0, "", 0, 0, "", float(g.x[i] @ w), np.zeros(1), tuple(g.x[i]))
        rows.append(answerable.features(g.question, g.lang, g.support, best, g.unknown))
    return np.array(rows)


def top1(groups: Sequence[Group], w: np.ndarray) -> float:
    """Share of answerable questions whose best-scored sentence holds the evidence (no candidate → miss)."""
    return float(np.mean([bool(g.y[int(np.argmax(g.x @ w))]) if len(g.y) else False for g in groups if g.answerable]))


def folds_by_article(groups: Sequence[Group], folds: int = FOLDS) -> list[int]:
    """A fold number per question; all questions about one article share a fold."""
    articles = sorted({(g.set, g.article) for g in groups})
    order = np.random.default_rng(0).permutation(len(articles))
    fold = {articles[a]: i % folds for i, a in enumerate(order)}
    return [fold[(g.set, g.article)] for g in groups]


def cross_validate(groups: Sequence[Group], folds: int = FOLDS) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Top-1 accuracy per set and language, plus each question's refusal features and CV answer probability.

    Every figure comes from fits that never saw the question's article.
    """
    fold = folds_by_article(groups, folds)
    hits: dict[str, list[bool]] = {}
    rows = np.zeros((len(groups), len(answerable.FEATURES)))
    for f in range(folds):
        w0, w = fit_two([g for g, k in zip(groups, fold, strict=True) if k != f])
        idx = [i for i, k in enumerate(fold) if k == f]
        seen = [shortlisted(groups[i], w0) for i in idx]
        rows[idx] = refusal_rows(seen, w)
        for g in seen:
            if g.answerable:
                ok = bool(g.y[int(np.argmax(g.x @ w))]) if len(g.y) else False
                for key in (f"{g.set}", f"{g.set}/{g.lang}"):
                    hits.setdefault(key, []).append(ok)
    labels = np.array([g.answerable for g in groups], dtype=float)
    prob = np.zeros(len(groups))
    for f in range(folds):
        train = np.array([k != f for k in fold])
        wr = fit_logistic(rows[train], labels[train])
        prob[~train] = 1 / (1 + np.exp(-(np.hstack([rows[~train], np.ones((int((~train).sum()), 1))]) @ wr)))
    return {k: float(np.mean(v)) for k, v in sorted(hits.items())}, rows, prob


def threshold(groups: Sequence[Group], prob: np.ndarray, min_answered: float = MIN_ANSWERED) -> float:
    """The highest probability threshold answering at least `min_answered` of every set's answerable questions."""
    best = 0.0
    for t in np.linspace(0.0, 0.95, 96):
        ok = all(
            np.mean([p >= t for g, p in zip(groups, prob, strict=True) if g.set == s and g.answerable]) >= min_answered
            for s in SETS
        )
        if ok:
            best = float(t)
    return best


def confusion(groups: Sequence[Group], prob: np.ndarray, t: float) -> dict[str, dict[str, float]]:
    """Answered share of answerable and refused share of unanswerable questions, per set and language."""
    out: dict[str, dict[str, float]] = {}
    for key in sorted({g.set for g in groups} | {f"{g.set}/{g.lang}" for g in groups}):
        mine = [(g, p) for g, p in zip(groups, prob, strict=True) if key in (g.set, f"{g.set}/{g.lang}")]
        pos = [p >= t for g, p in mine if g.answerable]
        neg = [p < t for g, p in mine if not g.answerable]
        out[key] = {"answered": float(np.mean(pos)) if pos else 0.0, "refused": float(np.mean(neg)) if neg else 0.0}
    return out


def _vector(weights: dict[str, float]) -> np.ndarray:
    return np.array([weights.get(f, 0.0) for f in FEATURES])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.fit_select", description=__doc__)
    p.add_argument("--write", action="store_true", help=f"store the weights fitted on all articles in {WEIGHTS}")
    p.add_argument("--cache", type=Path, help="keep the collected features in this file (refits without the model)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.cache and args.cache.exists():
        groups = pickle.loads(args.cache.read_bytes())
    else:
        groups = collect(Settings.from_env())
        if args.cache:
            args.cache.write_bytes(pickle.dumps(groups))
    before = _vector(BEFORE)
    cv_top1, _, cv_prob = cross_validate(groups)
    t = threshold(groups, cv_prob)
    report = {
        "questions": len(groups),
        "evidence_among_candidates": float(np.mean([g.y.any() for g in groups if g.answerable])),
        "top1_before": {s: top1([g for g in groups if g.set == s], before) for s in SETS},
        "top1_cross_validated": cv_top1,
        "refusal_threshold": t,
        "refusal_cross_validated": confusion(groups, cv_prob, t),
    }
    w0, w = fit_two(groups)
    seen = [shortlisted(g, w0) for g in groups]
    wr = fit_logistic(refusal_rows(seen, w), np.array([g.answerable for g in groups], dtype=float))
    report["top1_fitted_all"] = {s: top1([g for g in seen if g.set == s], w) for s in SETS}
    print(json.dumps(report, indent=2))
    if args.write:
        weights = {f: round(float(x), 4) for f, x in zip(FEATURES, w, strict=True)}
        refuse = {f: round(float(x), 4) for f, x in zip(answerable.FEATURES, wr[:-1], strict=True)}
        refuse |= {"bias": round(float(wr[-1]), 4), "threshold": round(t, 4)}
        first = {
            f: round(float(x), 4) for f, x in zip(FEATURES, w0, strict=True) if f not in ("en_align", "en_align_win")
        }
        doc = {"weights": weights, "shortlist": first, "refuse": refuse, "fit": report}
        WEIGHTS.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
