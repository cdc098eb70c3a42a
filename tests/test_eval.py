"""The regression gate and the suite's command line, run for real on the dev questions."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from eval.calibrate import best_threshold
from eval.cli import REFERENCE, below_reference, regressions
from eval.runner import Config, Result
from rag.config import Settings
from rag.pipeline import Assistant

from .conftest import ROOT, SEEDS
from .loopback import free_port, start_chroma

slow = pytest.mark.slow  # the pure logic below runs in the fast tier


def test_gate_flags_only_drops_beyond_the_tolerance() -> None:
    base = {"MRR@10": 0.80, "R@5": 0.90}
    assert regressions({"MRR@10": 0.785, "R@5": 0.95}, base) == []
    assert len(regressions({"MRR@10": 0.77, "R@5": 0.87}, base)) == 2


def test_gate_flags_a_language_below_dense_only() -> None:
    """The default may beat dense-only overall and still lose on one language: that fails too."""

    def result(name: str, overall: float, de: float, en: float) -> Result:
        by_lang = {"de": {"MRR@10": de}, "en": {"MRR@10": en}}
        return Result(Config(name), "xquad-de", {"MRR@10": overall}, by_lang, {})

    reference = result(REFERENCE.name, 0.87, 0.88, 0.85)
    assert below_reference(result("default", 0.93, 0.94, 0.92), reference) == []
    problems = below_reference(result("default", 0.90, 0.96, 0.84), reference)
    assert len(problems) == 1 and problems[0].startswith("en MRR@10 0.8400")


def test_threshold_calibration_on_a_hand_made_case() -> None:
    points = [(0.70, False), (0.75, False), (0.78, True), (0.80, False), (0.85, True), (0.90, True)]
    t, m = best_threshold(points, max_refused=0.0)
    assert 0.75 < t <= 0.78
    assert m == {
        "answerable_answered": 3,
        "answerable_refused": 0,
        "unanswerable_answered": 1,
        "unanswerable_refused": 2,
    }
    t, m = best_threshold(points, max_refused=0.34)  # one of three answerable may be refused
    assert 0.80 < t <= 0.85 and m["unanswerable_refused"] == 3


def run_module(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    """Run `python -m ARGS` from the project root in a fresh process; its stdout, after it succeeded."""
    proc = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@slow
def test_suite_meets_the_committed_baseline(tmp_path: Path, settings) -> None:
    """CI's regression gate: retrieval and answer figures on both sets (dev, xquad-de), per language,
    within 0.02 (or one question) of eval/baseline.json."""
    out = tmp_path / "report"
    env = {"RAG_CACHE_DIR": str(settings.cache_dir), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    result = json.loads(run_module(["eval", "--answers", "--check-baseline", "--json", "--out", str(out)], env, 1800))
    assert {r["set"] for r in result} == {"dev", "xquad-de"}
    assert {(r["set"], r["config"]) for r in result if r["config"] == REFERENCE.name} == {
        ("dev", "dense"),
        ("xquad-de", "dense"),
    }  # the dense-only reference row, which the gate compared the default with
    assert (out / "report.md").is_file() and any(out.glob("*.png"))
    assert result  # the figures themselves are gated above, against the baseline file


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


@slow
def test_calibrate_leaves_the_users_index_alone(settings: Settings, embedder, tmp_path: Path) -> None:
    """A user's index of other articles: calibrating on the seeds must not touch a byte of it."""
    articles = tmp_path / "my-articles"
    articles.mkdir()
    shutil.copy(next(SEEDS.glob("003_*.txt")), articles / "mein_artikel.txt")
    data = tmp_path / "data"
    Assistant(dataclasses.replace(settings, data_dir=data, seeds_dir=articles), embedder=embedder).index(progress=False)
    before = snapshot(data)
    questions = tmp_path / "q.jsonl"
    lines = (ROOT / "eval/questions/dev.jsonl").read_text(encoding="utf-8").splitlines()
    questions.write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_CACHE_DIR": str(settings.cache_dir)}
    assert json.loads(run_module(["eval.calibrate", "--questions", str(questions)], env))
    assert snapshot(data) == before


@slow
@pytest.mark.parametrize("command", ["eval.calibrate", "eval.dev"])
def test_eval_commands_leave_a_chroma_server_alone(settings: Settings, embedder, tmp_path: Path, command: str) -> None:
    """With RAG_CHROMA_URL set, evaluation still indexes into a temporary folder, not the server."""
    port = free_port()
    chroma = start_chroma(tmp_path / "chroma", port)
    try:
        url = f"http://127.0.0.1:{port}"
        articles = tmp_path / "my-articles"
        articles.mkdir()
        shutil.copy(next(SEEDS.glob("003_*.txt")), articles / "mein_artikel.txt")
        user = Assistant(dataclasses.replace(settings, chroma_url=url, seeds_dir=articles), embedder=embedder)
        user.index(progress=False)
        before = user.store().doc_hashes()
        questions = tmp_path / "q.jsonl"
        lines = (ROOT / "eval/questions/dev.jsonl").read_text(encoding="utf-8").splitlines()
        questions.write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
        env = {**os.environ, "RAG_CHROMA_URL": url, "RAG_CACHE_DIR": str(settings.cache_dir)}
        run_module([command, "--questions", str(questions)], env)
        assert user.store().doc_hashes() == before == {"mein_artikel": before["mein_artikel"]}
    finally:
        chroma.kill()
        chroma.wait()


def test_paragraph_fit_holds_each_article_out() -> None:
    """Leave-one-article-out: an article's questions get the value the other articles prefer."""
    from eval.fit_paragraph import Outcome, cross_validate

    def outcome(article: str, good: bool) -> Outcome:
        figures = {"named": float(good), "first": float(good), "R@1000c": 1.0, "MRR@10": 1.0, "R@5": 1.0}
        return Outcome("xquad-de", "de", article, False, figures)

    # Value 0 is the better one for article a, value 1 for b and c; one question each, and one the
    # articles do not answer.
    table = [
        [outcome("a", True), outcome("b", False), outcome("c", False), outcome("", False)],
        [outcome("a", False), outcome("b", True), outcome("c", True), outcome("", False)],
    ]
    chosen, folds = cross_validate(table)
    # a held out: b and c prefer 1. b (or c) held out: a and c tie, and a tie takes the smaller value.
    assert chosen == [1, 0, 0, 1]  # the unanswerable question gets the choice of all articles: 1
    assert folds == {0: 2, 1: 1}
