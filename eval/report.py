"""Tables and plots for evaluation results: Markdown for people, JSON for machines, PNG plots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.runner import Result

COLUMNS = ["MRR@10", "nDCG@10", "R@1", "R@3", "R@5", "R@10", "R@1000c", "R@2000c"]


def to_json(results: Sequence[Result]) -> list[dict[str, Any]]:
    return [
        {
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


def markdown(results: Sequence[Result], plots: Sequence[str] = ()) -> str:
    parts = ["# Retrieval evaluation", "", "## Overall", "", table({r.config.name: r.overall for r in results})]
    for r in results:
        parts += ["", f"## {r.config.name}", "", f"Settings: `{json.dumps(r.config.overrides)}`", ""]
        parts += ["By language:", "", table(r.by_lang, "lang"), "", "By question type:", "", table(r.by_type, "type")]
        if r.answers:
            parts += ["", "Answers:", "", "| figure | value |", "|---|---|"]
            parts += [f"| {k} | {v:.3f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in r.answers.items()]
    parts += [f"\n![{Path(p).stem}]({Path(p).name})" for p in plots]
    return "\n".join(parts) + "\n"


def plot(results: Sequence[Result], out: Path) -> list[str]:
    """Per-config bars, and metric vs chunk size when configs differ in chunk size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    fig, ax = plt.subplots(figsize=(max(6, len(results) * 0.9), 4))
    names = [r.config.name for r in results]
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
        for metric in ["MRR@10", "R@5", "R@1000c"]:
            ax.plot([s for s, _ in sized], [r.overall.get(metric, 0) for _, r in sized], marker="o", label=metric)
        ax.set_xlabel("chunk size (characters)")
        ax.set_ylim(0, 1)
        ax.legend()
        fig.tight_layout()
        files.append(str(out / "chunk_size.png"))
        fig.savefig(files[-1], dpi=100)
        plt.close(fig)
    return files
