"""Calibrate the refusal thresholds: `python -m eval.calibrate --questions eval/questions/dev.jsonl`.

For each language, the highest threshold on the closest passage's similarity that still answers at
least 95% of the answerable dev questions: refusing a question the articles do answer costs the
reader more than an answer whose sources show it is weak. Balanced accuracy picked thresholds that
refused two thirds of the English questions, because e5 similarity alone separates on-topic
unanswerable questions poorly (see README, "Refusal").

The articles are indexed into a temporary folder: indexing brings an index in line with one
folder, so calibrating in the user's data folder would delete the user's own articles from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from eval.questions_io import load_docs, load_questions
from eval.sets import SETS
from rag.config import Settings
from rag.lang import detect
from rag.pipeline import Assistant

MAX_REFUSED = 0.05


def best_threshold(
    points: Sequence[tuple[float, bool]], max_refused: float = MAX_REFUSED
) -> tuple[float, dict[str, int]]:
    """(threshold, confusion matrix): the highest one refusing at most `max_refused` of the answerable."""
    pos = sum(a for _, a in points) or 1
    best = (0.0, confusion(points, 0.0))
    for t in sorted({round(s + 1e-4, 4) for s, _ in points}):
        m = confusion(points, t)
        if m["answerable_refused"] / pos <= max_refused:
            best = (t, m)
    return best


def confusion(points: Sequence[tuple[float, bool]], t: float) -> dict[str, int]:
    m = dict.fromkeys(("answerable_answered", "answerable_refused", "unanswerable_answered", "unanswerable_refused"), 0)
    for s, a in points:
        m[("answerable" if a else "unanswerable") + ("_answered" if s >= t else "_refused")] += 1
    return m


def supports(base: Settings, tmp: Path, seeds: Path, questions: Path) -> dict[str, list[tuple[float, bool]]]:
    """Per language, (closest passage's similarity, answerable) for each question.

    Indexed into `tmp`, never into the configured data folder or Chroma server.
    """
    assistant = Assistant(dataclasses.replace(base, data_dir=tmp, chroma_url=""))
    assistant.index(seeds, progress=False)
    by_lang: dict[str, list[tuple[float, bool]]] = {}
    for q in load_questions(questions, load_docs(seeds)):
        support = assistant.retriever.retrieve(q.question).support
        by_lang.setdefault(detect(q.question), []).append((support, q.answerable))
    return by_lang


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__)
    p.add_argument("--questions", type=Path, default=SETS["dev"].questions)
    p.add_argument("--seeds", type=Path, default=SETS["dev"].corpus)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rag-calibrate-") as tmp:
        by_lang = supports(Settings.from_env(), Path(tmp), args.seeds, args.questions)
    out = {}
    for lang, points in sorted(by_lang.items()):
        t, matrix = best_threshold(points)
        out[lang] = {"threshold": t, **matrix}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
