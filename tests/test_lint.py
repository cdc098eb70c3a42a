"""The house tooling runs in CI too: ruff (lint + format) and mypy over the shipped packages."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT

PACKAGES = [p for p in ("rag", "eval", "ui") if (ROOT / p).is_dir()]


@pytest.mark.parametrize(
    "cmd",
    [
        [sys.executable, "-m", "ruff", "check", *PACKAGES, "tests"],
        [sys.executable, "-m", "ruff", "format", "--check", *PACKAGES, "tests"],
        [sys.executable, "-m", "mypy", *PACKAGES],
    ],
    ids=["ruff", "ruff-format", "mypy"],
)
def test_tool_is_clean(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
