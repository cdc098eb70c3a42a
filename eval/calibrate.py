"""Calibrate the refusal thresholds: `python -m eval.calibrate --questions eval/questions/dev.jsonl`.

For each language, the threshold on the closest passage's similarity that best separates
answerable from unanswerable questions (balanced accuracy; ties go to the lower threshold, since
refusing an answerable question costs the reader more than a weak answer with sources).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from eval.questions_io import load_docs, load_questions
from rag.config import Settings
from rag.lang import detect
from rag.pipeline import Assistant


def best_threshold(points: Sequence[tuple[float, bool]]) -> tuple[float, dict[str, int]]:
    """(threshold, confusion matrix) maximising balanced accuracy over (support, answerable) pairs."""
    pos = sum(a for _, a in points) or 1
    neg = sum(not a for _, a in points) or 1
    best: tuple[float, float, dict[str, int]] = (-1.0, 0.0, {})
    for t in sorted({0.0, *(round(s + 1e-4, 4) for s, _ in points)}):
        m = confusion(points, t)
        score = (m["answerable_answered"] / pos + m["unanswerable_refused"] / neg) / 2
        if score > best[0]:
            best = (score, t, m)
    return best[1], best[2]


def confusion(points: Sequence[tuple[float, bool]], t: float) -> dict[str, int]:
    m = dict.fromkeys(("answerable_answered", "answerable_refused", "unanswerable_answered", "unanswerable_refused"), 0)
    for s, a in points:
        m[("answerable" if a else "unanswerable") + ("_answered" if s >= t else "_refused")] += 1
    return m


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__)
    p.add_argument("--questions", type=Path, default=Path("eval/questions/dev.jsonl"))
    p.add_argument("--seeds", type=Path, default=Path("seeds"))
    args = p.parse_args(argv)
    assistant = Assistant(Settings.from_env())
    assistant.index(args.seeds, progress=False)
    by_lang: dict[str, list[tuple[float, bool]]] = {}
    for q in load_questions(args.questions, load_docs(args.seeds)):
        support = assistant.retriever.retrieve(q.question).support
        by_lang.setdefault(detect(q.question), []).append((support, q.answerable))
    out = {}
    for lang, points in sorted(by_lang.items()):
        t, matrix = best_threshold(points)
        out[lang] = {"threshold": t, **matrix}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
