"""The CLI contract other tools rely on, run as real subprocesses."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings
from rag.pipeline import Assistant

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def rag(*args: str, settings: Settings, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "RAG_DATA_DIR": str(settings.data_dir),
        "RAG_CACHE_DIR": str(settings.cache_dir),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full_env,
        timeout=300,
    )


def test_help_everywhere(settings: Settings) -> None:
    for cmd in ([], ["index"], ["search"], ["setup"], ["start"]):
        out = rag(*cmd, "--help", settings=settings)
        assert out.returncode == 0 and "usage:" in out.stdout


def test_setup_provisions_no_default_model_when_another_is_set(settings: Settings, tmp_path: Path) -> None:
    """`rag setup` takes the one set-up path of `python -m ui`: RAG_EMBED_MODEL's model, nothing built."""
    from rag import provision

    (tmp_path / "seeds").mkdir()
    mine = dataclasses.replace(settings, data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    model = str(provision.model_dir(settings.cache_dir))
    out = rag("setup", settings=mine, RAG_EMBED_MODEL=model, RAG_SEEDS_DIR=str(tmp_path / "seeds"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"model: {model}\n")
    cache = tmp_path / "cache"  # no model; the English-German look-up table only (rag.glossary)
    assert not cache.exists() or {p.name for p in cache.iterdir()} == {"glossary"}
    assert "--llm" in rag("setup", "--help", settings=mine).stdout


def test_search_json(assistant, settings: Settings) -> None:
    out = rag("search", "Welche Länder hielten Manöver ab?", "-k", "4", "--json", settings=settings)
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)
    assert len(hits) == 4
    assert set(hits[0]) >= {"doc", "start", "end", "text", "score", "title", "date", "url"}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_search_questions_file(assistant, settings: Settings, tmp_path: Path) -> None:
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(
        '{"id": "a", "question": "Wer ist Mark Rutte?"}\n{"id": "b", "question": "Who is Dong Jun?"}\n',
        encoding="utf-8",
    )
    out = rag("search", "--questions", str(qfile), "-k", "3", "--json", settings=settings)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"] and all(len(r["hits"]) == 3 for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "  "], "empty"),
        (["search"], "No question"),
        (["search", "--questions", "/nonexistent.jsonl"], "Cannot read"),
        (["search", "Manöver", "-k", "0"], "at least 1"),
        (["search", "Manöver", "-k", "-5"], "at least 1"),
    ],
)
def test_errors_exit_2_without_traceback(assistant, settings: Settings, args: list[str], message: str) -> None:
    out = rag(*args, settings=settings)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_no_index_yet(settings: Settings, tmp_path: Path) -> None:
    out = rag("search", "Wer?", settings=settings, RAG_DATA_DIR=str(tmp_path / "empty"))
    assert out.returncode == 2 and "rag index" in out.stderr and "Traceback" not in out.stderr


def test_index_reports_unreadable_file(settings: Settings, tmp_path: Path) -> None:
    seeds = tmp_path / "s"
    seeds.mkdir()
    (seeds / "ok.txt").write_text(
        "Japan und Russland vereinbarten gemeinsame Marinemanöver gegen Piraterie "
        "und Terrorismus, berichteten mehrere Agenturen am Samstag aus Tokio.",
        encoding="utf-8",
    )
    (seeds / "bad.txt").write_bytes("Grüße".encode("latin-1"))
    out = rag("index", "--seeds", str(seeds), settings=settings, RAG_DATA_DIR=str(tmp_path / "d"))
    assert out.returncode == 2 and "bad.txt" in out.stderr and "UTF-8" in out.stderr
    assert "1 added" in out.stdout


def test_index_bf16_flag_beats_the_environment(settings: Settings, tmp_path: Path) -> None:
    """`--bf16 on` over RAG_INDEX_BF16=off: the report names the encoder that embedded the passages."""
    out = rag(
        "index", "--bf16", "on", "--json", settings=settings, RAG_DATA_DIR=str(tmp_path / "d"), RAG_INDEX_BF16="off"
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["encoder"] == "torch bf16" and len(report["added"]) == 5
    again = rag("index", "--json", settings=settings, RAG_DATA_DIR=str(tmp_path / "d2"), RAG_INDEX_BF16="off")
    assert json.loads(again.stdout)["encoder"] == "onnx"


def test_terminal_gets_no_escape_sequences_from_articles(settings: Settings, embedder, tmp_path: Path) -> None:
    """An article carrying "clear screen", "set window title" and a bell: printed without them."""
    seeds = tmp_path / "s"
    seeds.mkdir()
    (seeds / "esc.txt").write_text(
        "Marinemanöver im Pazifik\n\nJapan und Russland vereinbarten \x1b[2J\x1b]0;gehackt\x07gemeinsame "
        "Marinemanöver gegen Piraterie und Terrorismus, berichteten mehrere Agenturen am Samstag aus Tokio.\n",
        encoding="utf-8",
    )
    data = tmp_path / "d"
    Assistant(dataclasses.replace(settings, data_dir=data, seeds_dir=seeds), embedder=embedder).index(progress=False)
    for args in (["search", "Marinemanöver Piraterie", "-k", "1"], ["ask", "Was vereinbarten Japan und Russland?"]):
        out = rag(*args, settings=settings, RAG_DATA_DIR=str(data))
        assert out.returncode == 0, out.stderr
        assert "Marinemanöver" in out.stdout and "gehackt" in out.stdout
        assert not {"\x1b", "\x07"} & set(out.stdout), out.stdout
