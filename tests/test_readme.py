"""The README's quick start stays true: CI runs exactly its test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_quick_start_is_two_commands() -> None:
    cmds = quick_start_commands()
    assert len(cmds) == 2 and all("\n" not in c for c in cmds)
    assert "rag-chat" in cmds[0] and "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_commands()[1] in ci.splitlines()


def test_ci_fails_on_lint_and_type_errors() -> None:
    """ruff and mypy run in `.ci/run` after the tests (not inside pytest, which keeps the fast tier fast)."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for tool in ("ruff check rag eval ui tests", "ruff format --check rag eval ui tests", "mypy rag eval ui"):
        assert f"{tool} || lint=1" in ci, tool
    assert ci.rstrip().endswith('exit "$lint"')
