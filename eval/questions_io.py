"""Question files as the suite sees them: `{"id", "question", "lang", "evidence": [{"doc", "quote"}], "answerable"}`.

`rag.questions` reads the lines; here every evidence quote is located in its cleaned article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from eval.metrics import Span
from rag.ingest import discover, load_document
from rag.questions import numbered_questions
from rag.types import Document


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    lang: str
    answerable: bool
    type: str = ""
    evidence: tuple[Span, ...] = ()
    must_mention: tuple[str, ...] = field(default_factory=tuple)


def load_docs(seeds: Path) -> dict[str, Document]:
    return {d.doc_id: d for d in (load_document(p) for p in discover(seeds))}


def load_questions(path: Path, docs: dict[str, Document]) -> list[Question]:
    """Parse a question file and locate every quote in the cleaned documents (a miss is an error)."""
    out = []
    for no, raw in numbered_questions(path):
        spans = []
        for ev in raw.get("evidence", []):
            doc = docs.get(ev["doc"])
            found = _locate(doc.text, ev["quote"]) if doc else None
            if found is None:
                raise ValueError(f"{path}:{no}: quote not found in cleaned {ev['doc']}: {ev['quote'][:60]!r}")
            spans.append(Span(ev["doc"], *found))
        out.append(
            Question(
                id=str(raw["id"]),
                question=raw["question"],
                lang=raw.get("lang", ""),
                answerable=bool(raw.get("answerable", True)),
                type=raw.get("type", ""),
                evidence=tuple(spans),
                must_mention=tuple(raw.get("must_mention", [])),
            )
        )
    return out


def _locate(text: str, quote: str) -> tuple[int, int] | None:
    """Exact match first; else the same words with any whitespace between them."""
    start = text.find(quote)
    if start >= 0:
        return start, start + len(quote)
    m = re.search(r"\s+".join(map(re.escape, quote.split())), text)
    return (m.start(), m.end()) if m else None
