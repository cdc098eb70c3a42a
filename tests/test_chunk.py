"""Chunk offsets always point back into the cleaned text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.chunk import chunk_document, chunks_for
from rag.config import Settings
from rag.index import doc_version
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


def _sentences(n: int, start: int = 0) -> str:
    """`n` distinct sentences of about 55 characters each."""
    return " ".join(f"Satz {i:03d} berichtet über die Lage im Pazifik und in Europa." for i in range(start, start + n))


def test_a_paragraph_up_to_the_limit_stays_one_chunk() -> None:
    short = ["Kurzer Absatz eins.", "Kurzer Absatz zwei."]
    middle = _sentences(14)  # about 800 characters
    long = _sentences(30, 100)  # about 1,700 characters
    text = "\n".join([*short, middle, long, "Schluss."])
    d = Document(doc_id="x", text=text, content_hash="h")
    chunks = chunk_document(d, 600, 100, paragraph=1000)
    assert [c.text for c in chunks if c.text == middle] == [middle]  # whole, and only once
    assert chunks[0].text == "\n".join(short)  # short paragraphs are still merged
    beyond = [c for c in chunks if c.start >= text.index(long)]
    assert len(beyond) >= 3 and all(len(c.text) <= 600 for c in beyond)  # a longer one is still split
    covered: set[int] = set()
    for c in chunks:
        assert c.text == text[c.start : c.end]
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    # Without the limit (or with one not above the size) the middle paragraph is cut as before.
    for paragraph in (0, 600):
        plain = chunk_document(d, 600, 100, paragraph=paragraph)
        assert [c.text for c in plain] == [c.text for c in chunk_document(d, 600, 100)]
        assert all(len(c.text) <= 600 for c in plain)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=900), min_size=1, max_size=6), st.integers(50, 400))
def test_offsets_hold_with_whole_paragraphs(paragraphs: list[str], size: int) -> None:
    text = "\n".join(paragraphs)
    d = Document(doc_id="x", text=text, content_hash="h")
    for c in chunk_document(d, size, size // 5, paragraph=2 * size):
        assert c.text == text[c.start : c.end]
        assert len(c.text) <= 2 * size


def test_whole_paragraphs_change_only_the_versions_of_articles_they_change() -> None:
    """Articles without a paragraph the setting keeps whole keep their version (no re-embedding)."""
    before, now = Settings(paragraph_ratio=0), Settings()  # 800 characters at the default chunk size
    for path in discover(SEEDS):  # news paragraphs, all under 600 characters
        d = load_document(path)
        assert doc_version(d, before) == doc_version(d, now)
        assert [c.text for c in chunks_for(d, now)] == [c.text for c in chunks_for(d, before)]
    long = Document(doc_id="x", text="Kurz.\n" + _sentences(12), content_hash="h")  # a 670-character paragraph
    assert doc_version(long, before) != doc_version(long, now)
