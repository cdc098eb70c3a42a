"""Settings are checked when they are made: unknown names and impossible sizes stop with the variable's name."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from typing import Any

import pytest

from rag import fusion, retrieve
from rag.config import CHOICES, POSITIVE, TIMEOUTS, Settings
from rag.errors import RagError
from rag.generate import GENERATORS
from tests.conftest import ROOT


def test_defaults_are_valid() -> None:
    Settings()


def test_choices_agree_with_the_stages_registries() -> None:
    assert CHOICES["retrieval"] == retrieve.METHODS
    assert CHOICES["fusion"] == fusion.FUSIONS
    assert CHOICES["adaptive"] == fusion.ADAPTIVE
    assert set(CHOICES["generator"]) == set(GENERATORS)


@pytest.mark.parametrize("name", sorted(CHOICES))
def test_an_unknown_name_names_the_variable_and_the_allowed_values(name: str) -> None:
    with pytest.raises(RagError) as exc:
        Settings.from_env({f"RAG_{name.upper()}": "foo"})
    assert f"RAG_{name.upper()}='foo'" in exc.value.message
    assert all(value in exc.value.message for value in CHOICES[name])


def test_every_allowed_name_is_accepted() -> None:
    for name, allowed in CHOICES.items():
        for value in allowed:
            assert getattr(Settings(**{name: value}), name) == value


def test_the_old_adaptive_switch_still_reads() -> None:
    assert Settings.from_env({"RAG_ADAPTIVE": "true"}).adaptive == "language"
    assert Settings(adaptive="false").adaptive == "off"  # type: ignore[arg-type]


@pytest.mark.parametrize("name", POSITIVE)
@pytest.mark.parametrize("value", ["0", "-5"])
def test_sizes_below_one_are_refused(name: str, value: str) -> None:
    with pytest.raises(RagError, match=f"RAG_{name.upper()}={value}.* must be 1 or more"):
        Settings.from_env({f"RAG_{name.upper()}": value, "RAG_CHUNK_OVERLAP": "0"})


@pytest.mark.parametrize("name", TIMEOUTS)
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_timeouts_must_be_above_zero(name: str, value: str) -> None:
    with pytest.raises(RagError, match=f"RAG_{name.upper()}.* above 0"):
        Settings.from_env({f"RAG_{name.upper()}": value})


@pytest.mark.parametrize(("size", "overlap"), [(600, 600), (100, 200), (600, -1)])
def test_overlap_must_be_below_the_chunk_size(size: int, overlap: int) -> None:
    with pytest.raises(RagError, match="RAG_CHUNK_OVERLAP.*below RAG_CHUNK_SIZE"):
        Settings(chunk_size=size, chunk_overlap=overlap)
    Settings(chunk_size=size + abs(overlap) + 1, chunk_overlap=abs(overlap))


@pytest.mark.parametrize(("field", "value"), [("max_queue", -1), ("rrf_k", -1), ("port", 70000), ("port", -1)])
def test_queue_and_port_ranges(field: str, value: int) -> None:
    with pytest.raises(RagError, match=f"RAG_{field.upper()}"):
        Settings(**{field: value})


def test_changed_copies_are_checked_too() -> None:
    """`dataclasses.replace` (eval configurations, tests) runs the same checks."""
    with pytest.raises(RagError, match="RAG_FUSION"):
        dataclasses.replace(Settings(), fusion="max")  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # code that builds settings by hand may catch ValueError
        dataclasses.replace(Settings(), top_k=0)


def run(cmd: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environ: dict[str, Any] = {**os.environ, **env}
    return subprocess.run(cmd, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)


def test_cli_and_server_exit_with_code_2_and_the_message() -> None:
    out = run([sys.executable, "-m", "rag", "search", "Manöver"], RAG_RETRIEVAL="foo")
    assert out.returncode == 2, out.stderr
    assert "RAG_RETRIEVAL='foo'" in out.stderr and "hybrid, dense or lexical" in out.stderr
    assert "Traceback" not in out.stderr
    out = run([sys.executable, "-m", "ui", "--no-index"], RAG_CHUNK_SIZE="0")
    assert out.returncode == 2, out.stderr
    assert "RAG_CHUNK_SIZE=0 must be 1 or more" in out.stderr and "Traceback" not in out.stderr


def test_ef_search_reads_from_the_environment_and_is_checked() -> None:
    assert Settings.from_env({"RAG_EF_SEARCH": "250"}).ef_search == 250
    with pytest.raises(RagError, match="RAG_EF_SEARCH='wide' is not a valid int"):
        Settings.from_env({"RAG_EF_SEARCH": "wide"})
    with pytest.raises(RagError, match="RAG_EF_SEARCH=0 must be 1 or more"):
        Settings(ef_search=0)
