"""Tables and plots for evaluation results: Markdown for people, JSON for machines, PNG plots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.runner import Result

COLUMNS = ["MRR@10", "nDCG@10", "R@1", "R@3", "R@5", "R@10", "R@1000c", "R@2000c"]
ANSWER_COLUMNS = [
    "answerable_answered",
    "answerable_refused",
    "unanswerable_answered",
    "unanswerable_refused",
    "facts_named",
    "fact_first",
    "answer_chars",
    "verbatim",
]


def to_json(results: Sequence[Result]) -> list[dict[str, Any]]:
    return [
        {
            "set": r.set,
            "config": r.config.name,
            "settings": r.config.overrides,
            "overall": r.overall,
            "by_lang": r.by_lang,
            "by_type": r.by_type,
            "answers": r.answers,
        }
        for r in results
    ]


def table(rows: dict[str, dict[str, float]], first: str = "config") -> str:
    head = f"| {first} | n | " + " | ".join(COLUMNS) + " |"
    sep = "|---" * (len(COLUMNS) + 2) + "|"
    body = [
        f"| {name} | {int(m.get('n', 0))} | " + " | ".join(f"{m.get(c, 0.0):.3f}" for c in COLUMNS) + " |"
        for name, m in rows.items()
    ]
    return "\n".join([head, sep, *body])


def answer_table(rows: dict[str, dict[str, Any]]) -> str:
    """Answer figures, one row per set/config/language: counts as integers, rates with 3 decimals."""
    head = "| answers | " + " | ".join(ANSWER_COLUMNS) + " |"
    sep = "|---" * (len(ANSWER_COLUMNS) + 1) + "|"
    body = [f"| {name} | " + " | ".join(_cell(m[c]) for c in ANSWER_COLUMNS) + " |" for name, m in rows.items()]
    return "\n".join([head, sep, *body])


def _cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def by_lang_rows(results: Sequence[Result]) -> dict[str, dict[str, float]]:
    """Retrieval figures per set, config and language, the overall row first."""
    rows: dict[str, dict[str, float]] = {}
    for r in results:
        rows[f"{r.set} {r.config.name}"] = r.overall
        rows |= {f"{r.set} {r.config.name} {lang}": m for lang, m in r.by_lang.items()}
    return rows


def answer_rows(results: Sequence[Result]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for r in results:
        if r.answers:
            rows[f"{r.set} {r.config.name}"] = r.answers
            rows |= {f"{r.set} {r.config.name} {lang}": m for lang, m in r.answers["by_lang"].items()}
    return rows


def summary(results: Sequence[Result]) -> str:
    """Every set and configuration side by side, per language; answer figures when measured."""
    out = table(by_lang_rows(results))
    answers = answer_rows(results)
    return out + ("\n\n" + answer_table(answers) if answers else "")


def markdown(results: Sequence[Result], plots: Sequence[str] = ()) -> str:
    parts = ["# Evaluation", "", "## Retrieval, per set and language", "", table(by_lang_rows(results))]
    answers = answer_rows(results)
    if answers:
        parts += ["", "## Answers", "", answer_table(answers)]
    for r in results:
        parts += ["", f"## {r.set}: {r.config.name}", "", f"Settings: `{json.dumps(r.config.overrides)}`", ""]
        parts += ["By question type:", "", table(r.by_type, "type")]
    parts += [f"\n![{Path(p).stem}]({Path(p).name})" for p in plots]
    return "\n".join(parts) + "\n"


def plot(results: Sequence[Result], out: Path) -> list[str]:
    """Per-config bars, and metric vs chunk size when configs differ in chunk size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    fig, ax = plt.subplots(figsize=(max(6, len(results) * 0.9), 4))
    names = [f"{r.set} {r.config.name}" for r in results]
    width = 0.27
    for i, metric in enumerate(["MRR@10", "R@5", "R@1000c"]):
        ax.bar(
            [x + i * width for x in range(len(results))],
            [r.overall.get(metric, 0) for r in results],
            width,
            label=metric,
        )
    ax.set_xticks([x + width for x in range(len(results))], names, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    files.append(str(out / "methods.png"))
    fig.savefig(files[-1], dpi=100)
    plt.close(fig)
    sized = [(int(r.config.overrides["chunk_size"]), r) for r in results if "chunk_size" in r.config.overrides]
    if len({s for s, _ in sized}) > 1:
        fig, ax = plt.subplots(figsize=(6, 4))
        sized.sort(key=lambda t: t[0])
        for qset in dict.fromkeys(r.set for _, r in sized):
            points = [(s, r) for s, r in sized if r.set == qset]
            for metric in ["MRR@10", "R@5"]:
                ax.plot(
                    [s for s, _ in points],
                    [r.overall.get(metric, 0) for _, r in points],
                    marker="o",
                    label=f"{qset} {metric}",
                )
        ax.set_xlabel("chunk size (characters)")
        ax.set_ylim(0, 1)
        ax.legend()
        fig.tight_layout()
        files.append(str(out / "chunk_size.png"))
        fig.savefig(files[-1], dpi=100)
        plt.close(fig)
    return files
