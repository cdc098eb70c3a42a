"""Plain frozen dataclasses shared by every stage; no Chroma, torch or Gradio types here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class ArticleMeta:
    """What is known about an article besides its text; every chunk carries it (as `Chunk.meta`)."""

    title: str = ""
    outlet: str = ""
    date: str = ""
    url: str = ""

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> ArticleMeta:
        """The article fields of a chunk's or a Chroma record's metadata; missing ones are empty."""
        return cls(**{k: str(m.get(k) or "") for k in ARTICLE_KEYS})

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def fill(self, other: ArticleMeta) -> ArticleMeta:
        """These values, with `other`'s where these are empty."""
        return ArticleMeta(**{k: v or getattr(other, k) for k, v in self.as_dict().items()})

    @property
    def where(self) -> str:
        """ "DW, 2013-11-02": outlet and date as far as known, for labels under a title."""
        return ", ".join(x for x in (self.outlet, self.date) if x)


# The keys of chunk metadata, Chroma records, sidecars and front matter, and of the JSON shapes.
ARTICLE_KEYS = tuple(f.name for f in fields(ArticleMeta))


@dataclass(frozen=True)
class Document:
    """A cleaned article: `text` is what every chunk offset points into."""

    doc_id: str
    text: str
    title: str = ""
    outlet: str = ""
    date: str = ""
    url: str = ""
    content_hash: str = ""

    def meta(self) -> dict[str, str]:
        """Metadata carried by every chunk of this document."""
        return ArticleMeta(self.title, self.outlet, self.date, self.url).as_dict()


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; `text == document.text[start:end]` always holds."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def article(self) -> ArticleMeta:
        return ArticleMeta.from_mapping(self.meta)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score (higher is better)."""

    chunk: Chunk
    score: float

    def to_json(self) -> dict[str, Any]:
        """The CLI/API shape: `{"doc", "start", "end", "text", "score", "title", "outlet", "date", "url"}`."""
        c = self.chunk
        return {
            "doc": c.doc_id,
            "start": c.start,
            "end": c.end,
            "text": c.text,
            "score": round(float(self.score), 6),
            **c.article.as_dict(),
        }


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: an exact character span of a document."""

    n: int
    doc: str
    start: int
    end: int
    quote: str
    title: str = ""
    date: str = ""
    url: str = ""
    outlet: str = ""

    @property
    def article(self) -> ArticleMeta:
        return ArticleMeta(self.title, self.outlet, self.date, self.url)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """What the assistant says, with the citations that back it."""

    text: str
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    related: tuple[Hit, ...] = ()
    # Claims the checker found no support for (LLM generators); shown as a warning.
    unsupported: tuple[str, ...] = ()
    # Set when the chosen generator failed and another answered, or the answer was cut short.
    notice: str = ""
    generator: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "refused": self.refused,
            "related": [h.to_json() for h in self.related],
            "unsupported": list(self.unsupported),
            "notice": self.notice,
            "generator": self.generator,
        }


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: the sources first, then text pieces, then the answer."""

    kind: str  # "sources" | "delta" | "done"
    hits: tuple[Hit, ...] = ()
    text: str = ""
    answer: Answer | None = None
