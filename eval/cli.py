"""`python -m eval`: retrieval (and answer) quality on question files, per configuration.

Examples:
  python -m eval                                   # dev questions, default configuration
  python -m eval --configs default dense lexical --out eval/out
  python -m eval --sweep --out eval/out            # chunk sizes, methods, fusion weights
  python -m eval --configs "small:chunk_size=400,chunk_overlap=60" --json
  python -m eval --check-baseline                  # the CI regression gate
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from eval import report
from eval.questions_io import load_docs, load_questions
from eval.runner import Config, Result, evaluate, parse_config
from rag.config import Settings
from rag.errors import RagError

HERE = Path(__file__).parent
DEV = HERE / "questions" / "dev.jsonl"
BASELINE = HERE / "baseline.json"
TOLERANCE = 0.02
GATED = ("MRR@10", "R@5")


def sweep_configs() -> list[Config]:
    """The grid behind the README's tuning figures."""
    out = [Config(f"size-{s}", {"chunk_size": s, "chunk_overlap": s // 6}) for s in (300, 450, 600, 800, 1000, 1500)]
    out += [Config("dense", {"retrieval": "dense"}), Config("lexical", {"retrieval": "lexical"})]
    for k in (10, 60):
        for w in (0.5, 0.6, 0.7, 0.8, 0.9):
            out.append(Config(f"rrf-k{k}-w{w}", {"fusion": "rrf", "rrf_k": k, "dense_weight": w}))
    out += [Config(f"score-w{w}", {"fusion": "score", "dense_weight": w}) for w in (0.5, 0.6, 0.7, 0.8, 0.9)]
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--questions", type=Path, nargs="+", default=[DEV], help="question files (JSON lines)")
    p.add_argument("--seeds", type=Path, help="articles the questions are about (default: RAG_SEEDS_DIR or ./seeds)")
    p.add_argument("--configs", nargs="+", default=["default"], help="preset names or NAME:key=value,...")
    p.add_argument("--sweep", action="store_true", help="run the built-in configuration grid")
    p.add_argument("--answers", action="store_true", help="also score the answer stage")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--out", type=Path, help="write report.md, results.json and plots here")
    p.add_argument("--check-baseline", action="store_true", help=f"fail if {'/'.join(GATED)} drop > {TOLERANCE}")
    p.add_argument("--write-baseline", action="store_true", help="store the default config's figures as baseline")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        return _run(args)
    except (RagError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    base = Settings.from_env(seeds_dir=args.seeds)
    docs = load_docs(base.seeds_dir)
    questions = [q for f in args.questions for q in load_questions(f, docs)]
    configs = sweep_configs() if args.sweep else [parse_config(c) for c in args.configs]
    total = len(configs) * len(questions)
    with tqdm(total=total, desc="Evaluating", unit="q", disable=args.json or not sys.stderr.isatty()) as bar:
        results = evaluate(configs, questions, base, answers=args.answers, tick=lambda: bar.update())
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        plots = report.plot(results, args.out)
        (args.out / "report.md").write_text(report.markdown(results, plots), encoding="utf-8")
        (args.out / "results.json").write_text(json.dumps(report.to_json(results), indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(report.to_json(results), indent=2, ensure_ascii=False))
    else:
        print(report.table({r.config.name: r.overall for r in results}))
    if args.write_baseline:
        write_baseline(results[0])
    return check_baseline(results[0]) if args.check_baseline else 0


def write_baseline(result: Result) -> None:
    BASELINE.write_text(json.dumps({m: round(result.overall[m], 4) for m in GATED}, indent=2) + "\n")


def regressions(overall: dict[str, float], baseline: dict[str, float]) -> list[str]:
    return [
        f"{m} {overall[m]:.4f} is more than {TOLERANCE} below the baseline {baseline[m]:.4f}"
        for m in GATED
        if overall[m] < baseline[m] - TOLERANCE
    ]


def check_baseline(result: Result) -> int:
    problems = regressions(result.overall, json.loads(BASELINE.read_text()))
    for p in problems:
        print(f"REGRESSION: {p}", file=sys.stderr)
    return 1 if problems else 0
