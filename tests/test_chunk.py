"""Chunk offsets always point back into the cleaned text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.chunk import chunk_document
from rag.ingest import discover, load_document
from rag.types import Document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.mark.parametrize("size,overlap", [(300, 50), (600, 100), (1200, 200)])
def test_offsets_hold_on_seeds(size: int, overlap: int) -> None:
    for path in discover(SEEDS):
        d = load_document(path)
        chunks = chunk_document(d, size, overlap)
        assert chunks
        for c in chunks:
            assert c.text == d.text[c.start : c.end]
            assert len(c.text) <= size
            assert c.meta["title"] == d.title
        # together the chunks cover every non-blank character
        covered = set()
        for c in chunks:
            covered.update(range(c.start, c.end))
        assert all(i in covered for i, ch in enumerate(d.text) if not ch.isspace())


def test_ids_are_deterministic_and_unique() -> None:
    d = load_document(next(SEEDS.glob("003_*.txt")))
    a, b = chunk_document(d, 600, 100), chunk_document(d, 600, 100)
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b]
    assert len({c.chunk_id for c in a}) == len(a)


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=3000), st.integers(50, 400))
def test_offsets_hold_on_arbitrary_text(text: str, size: int) -> None:
    d = Document(doc_id="x", text=text, content_hash="h")
    for c in chunk_document(d, size, size // 5):
        assert c.text == text[c.start : c.end]
