"""Session fixtures: the real provisioned model and a real Chroma index of the seeds, built once."""

from __future__ import annotations

import shutil
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
