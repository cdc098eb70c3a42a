"""The serving half of the benchmark, run in a fresh process so cold start and peak memory are real.

`python -m eval.bench.probe ours|langchain DATA_DIR QUESTIONS_JSON [--answers] [--repeat N]
[--while-indexing FOLDER]` prints `FIRST` as soon as the first question is answered (the parent
times process start to that line), then one JSON line with warm latencies in milliseconds and the
peak RSS in MB. With `--while-indexing`, it then answers the questions again and again while
`rag index` brings the same index in line with FOLDER in a process of its own, as a user adding
articles to a running chat would, and reports those latencies beside the idle ones.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

WARMUP = 3


def timed_ms(fn: Callable[[str], Any], questions: Sequence[str], repeat: int) -> list[float]:
    """Wall time of each call in ms, after a few untimed calls so caches and allocators are warm."""
    for q in questions[:WARMUP]:
        fn(q)
    out = []
    for _ in range(repeat):
        for q in questions:
            t = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t) * 1000)
    return out


def ours(data_dir: Path, questions: Sequence[str], answers: bool, repeat: int) -> dict[str, Any]:
    """Our assistant as `rag ask` runs it: settings from the environment, index opened lazily."""
    from rag.config import Settings
    from rag.pipeline import Assistant

    a = Assistant(Settings.from_env(data_dir=data_dir))
    a.answer(questions[0]) if answers else a.search(questions[0])
    print("FIRST", flush=True)
    # The retriever alone first (it leaves the answer stage's caches cold), then the final order.
    out = {
        "retrieve_ms": timed_ms(a.retriever.search, questions, repeat),
        "search_ms": timed_ms(a.search, questions, repeat),
    }
    if answers:
        out["answer_ms"] = timed_ms(a.answer, questions, 1)
    return out


def while_indexing(data_dir: Path, questions: Sequence[str], folder: Path) -> dict[str, Any]:
    """Answer latencies of one serving process, idle and then while another process indexes `folder`
    into its data folder (`python -m rag index`); the server notices the new index state as it would
    in the chat."""
    from rag.config import Settings
    from rag.pipeline import Assistant

    a = Assistant(Settings.from_env(data_dir=data_dir))
    timed_ms(a.answer, questions, 1)  # the busy loop asks every question many times: compare warm with warm
    idle = timed_ms(a.answer, questions, 1)
    before = a.store().count()
    env = os.environ | {"RAG_DATA_DIR": str(data_dir)}
    busy: list[float] = []
    # Files, not pipes: a pipe nobody reads could fill up and stall the indexer.
    with tempfile.TemporaryFile() as log, tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "rag", "index", "--seeds", str(folder), "--json"]
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=log)
        while proc.poll() is None:
            for q in questions:
                t = time.perf_counter()
                a.answer(q)
                busy.append((time.perf_counter() - t) * 1000)
                if proc.poll() is not None:
                    break
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            log.seek(0)
            raise RuntimeError(f"rag index failed: {log.read()[-2000:].decode(errors='replace')}")
        out.seek(0)
        report = json.loads(out.read())  # the run's --json report: which encoder embedded (`rag.embed.indexing`)
    a.answer(questions[0])  # the server takes up the new index state
    return {
        "idle_ms": idle,
        "busy_ms": busy,
        "index_seconds": seconds,
        "chunks": [before, a.store().count()],
        "encoder": report["encoder"],
    }


def langchain(data_dir: Path, questions: Sequence[str], answers: bool, repeat: int) -> dict[str, Any]:
    """The peer: LangChain's Chroma store over the same model; it retrieves, it has no answer step."""
    from eval.bench.peer import open_store

    store = open_store(data_dir)
    store.similarity_search(questions[0], k=10)
    print("FIRST", flush=True)
    return {"search_ms": timed_ms(lambda q: store.similarity_search(q, k=10), questions, repeat)}


def peak_rss_mb() -> float:
    """This process's own RSS high-water mark. Not getrusage: Linux carries ru_maxrss over from
    the parent across exec, so a probe started by a big benchmark process would report its size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux; bytes on macOS


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.probe", description=__doc__)
    p.add_argument("impl", choices=["ours", "langchain"])
    p.add_argument("data_dir", type=Path)
    p.add_argument("questions", type=Path, help="JSON list of question strings")
    p.add_argument("--answers", action="store_true", help="also time whole answers (ours only)")
    p.add_argument("--repeat", type=int, default=1, help="passes over the questions for search latency")
    p.add_argument("--while-indexing", type=Path, metavar="FOLDER", help="answer while `rag index FOLDER` runs")
    args = p.parse_args(argv)
    questions = json.loads(args.questions.read_text(encoding="utf-8"))
    if args.while_indexing:
        print(json.dumps(while_indexing(args.data_dir, questions, args.while_indexing)), flush=True)
        return 0
    run = ours if args.impl == "ours" else langchain
    out = run(args.data_dir, questions, args.answers, args.repeat)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
