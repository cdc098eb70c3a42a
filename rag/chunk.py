"""Split cleaned documents into overlapping passages that keep exact offsets into the source.

langchain-text-splitters does the splitting (paragraph, then line, sentence, clause, word);
we locate each piece in the document ourselves, so `chunk.text == doc.text[start:end]` holds.
A paragraph somewhat longer than a chunk stays whole (`pieces`): cut, its answer often lands in
a chunk apart from the sentences that name its topic.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.config import Settings
from rag.types import Chunk, Document

SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]
# A paragraph: a line of the cleaned text (`rag.ingest` cleans in lines; HTML and PDF become lines).
PARAGRAPH = re.compile(r"\S(?:[^\n]*\S)?")


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


def chunks_for(doc: Document, settings: Settings) -> list[Chunk]:
    """The document's chunks as `rag index` cuts them with these settings."""
    return chunk_document(doc, settings.chunk_size, settings.chunk_overlap, paragraph_limit(settings))


def paragraph_limit(settings: Settings) -> int:
    """The longest paragraph kept as one chunk, in characters (`RAG_PARAGRAPH_RATIO` × chunk size)."""
    return round(settings.chunk_size * settings.paragraph_ratio)


def chunk_document(doc: Document, size: int, overlap: int, paragraph: int = 0) -> list[Chunk]:
    """Chunks in document order; ids are deterministic in (doc, content, span).

    A paragraph longer than `size` but at most `paragraph` characters is one chunk of its own
    (see `pieces`).
    """
    chunks: list[Chunk] = []
    cursor = 0
    for piece in pieces(doc.text, make_splitter(size, overlap), size, paragraph):
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


def keeps_whole(text: str, size: int, paragraph: int) -> bool:
    """Whether `paragraph` changes this text's chunks: a paragraph of it is longer than `size` but
    not than `paragraph`. (An index keys each article's version on the setting only then, so a
    new default re-embeds only the articles it changes.)"""
    return paragraph > size and any(_whole(m, size, paragraph) for m in PARAGRAPH.finditer(text))


def pieces(text: str, splitter: RecursiveCharacterTextSplitter, size: int, paragraph: int) -> Iterator[str]:
    """The chunks' texts: the splitter's, except that a paragraph longer than `size` but at most
    `paragraph` characters stays whole instead of being cut into sentences merged with its neighbours.

    Short paragraphs are still merged up to `size` and very long ones still split.
    """
    if paragraph <= size:
        yield from splitter.split_text(text)
        return
    run = -1  # where the current run of paragraphs the splitter handles begins
    for m in PARAGRAPH.finditer(text):
        if _whole(m, size, paragraph):
            if run >= 0:
                yield from splitter.split_text(text[run : m.start()])
                run = -1
            yield m.group()
        elif run < 0:
            run = m.start()
    if run >= 0:
        yield from splitter.split_text(text[run:])


def _whole(paragraph_match: re.Match[str], size: int, paragraph: int) -> bool:
    return size < paragraph_match.end() - paragraph_match.start() <= paragraph
