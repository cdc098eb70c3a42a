"""Split cleaned documents into overlapping passages that keep exact offsets into the source.

langchain-text-splitters does the splitting (paragraph, then line, sentence, clause, word);
we locate each piece in the document ourselves, so `chunk.text == doc.text[start:end]` holds.
"""

from __future__ import annotations

import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.types import Chunk, Document

SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]


def make_splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f"chunk size {size} / overlap {overlap}: need 0 <= overlap < size")
    return RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=overlap,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def chunk_document(doc: Document, size: int, overlap: int) -> list[Chunk]:
    """Chunks in document order; ids are deterministic in (doc, content, span)."""
    chunks: list[Chunk] = []
    cursor = 0
    for piece in make_splitter(size, overlap).split_text(doc.text):
        start = doc.text.find(piece, cursor)
        if start < 0:  # cannot happen with strip-only splitting; keep the invariant loud
            raise AssertionError(f"chunk not found in {doc.doc_id}: {piece[:60]!r}")
        end = start + len(piece)
        chunks.append(
            Chunk(
                chunk_id=chunk_id(doc, start, end),
                doc_id=doc.doc_id,
                start=start,
                end=end,
                text=piece,
                meta=doc.meta(),
            )
        )
        cursor = start + 1
    return chunks


def chunk_id(doc: Document, start: int, end: int) -> str:
    """Stable id: the same document content and span always get the same id."""
    digest = hashlib.sha1(f"{doc.content_hash}:{start}:{end}".encode()).hexdigest()[:12]
    return f"{doc.doc_id}:{start}-{end}:{digest}"
