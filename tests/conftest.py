"""Session fixtures: the real provisioned model and a real Chroma index of the seeds, built once.

Tests that use them (or torch, a server process, the LLM, Chromium) are marked `slow`; the fast tier
(`pytest -m "not slow"`) checks here that none of its tests loaded torch, the LLM or a browser.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

import pytest

from rag.config import Settings
from rag.pipeline import Assistant

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Defaults from code and RAG_CACHE_DIR (the model cache is shared), data in a temp dir."""
    return Settings.from_env(
        data_dir=tmp_path_factory.mktemp("index"), seeds_dir=SEEDS, embed_model="", collection="articles"
    )


@pytest.fixture(scope="session")
def assistant(settings: Settings) -> Assistant:
    """An assistant over a freshly built index of the five seed articles."""
    a = Assistant(settings)
    report = a.index(progress=False)
    assert len(report.added) == 5 and not report.failed
    return a


@pytest.fixture(scope="session")
def embedder(assistant: Assistant):
    return assistant.embedder


@pytest.fixture()
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of the seeds a test may change."""
    dst = tmp_path / "seeds"
    shutil.copytree(SEEDS, dst)
    return dst


def earlier_export(settings: Settings, tmp_path: Path) -> tuple[Settings, Path, Path]:
    """(settings with a model cache of their own, today's export folder, that cache's empty export
    folder): tests of exports made by earlier releases fill the empty folder the old way."""
    from rag import provision
    from rag.provision_onnx import ensure_export, onnx_dir

    good = ensure_export(settings)
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    mine = dataclasses.replace(settings, cache_dir=cache, embed_backend="onnx")
    provision.model_dir(cache).symlink_to(provision.model_dir(settings.cache_dir))
    old = onnx_dir(mine)
    old.mkdir()
    return mine, good, old


# What only slow tests may load: torch (the model's export and the reference tests), the LLM, the browser.
HEAVY = ("torch", "sentence_transformers", "llama_cpp", "playwright")
_loaded_by: dict[str, str] = {}


def _fast_tier(config: pytest.Config) -> bool:
    return "not slow" in (config.getoption("markexpr") or "")


def pytest_collection_finish(session: pytest.Session) -> None:
    """What importing the test modules loaded (test_ui.py imports Playwright) is not a test's doing."""
    _loaded_by.update({name: "" for name in HEAVY if name in sys.modules})


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if _fast_tier(item.config):
        for name in HEAVY:
            if name in sys.modules and name not in _loaded_by:
                _loaded_by[name] = item.nodeid


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    loaded = {name: nodeid for name, nodeid in _loaded_by.items() if nodeid}
    if loaded and session.exitstatus == 0:
        for name, nodeid in loaded.items():
            print(f"\nfast tier: {name} was loaded by {nodeid} (or a test before it); mark it slow", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
