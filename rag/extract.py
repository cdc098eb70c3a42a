"""Article text and metadata out of HTML pages (trafilatura) and PDF files (pypdf).

Both return plain text with one paragraph per line; `rag.ingest` cleans it further, and chunk offsets
point into that cleaned text. PDFs have no paragraph marks, so line lengths decide where one ends.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.types import ArticleMeta

log = logging.getLogger(__name__)


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def html_to_text(source: str) -> tuple[str, ArticleMeta]:
    """Main text of a news page, one block per line, and the page's title, site name, date and link.

    favor_recall keeps teasers and leads that trafilatura's default drops; the line cleaner in
    `rag.ingest` removes the furniture that lets in ("Lesen Sie auch: …"). Dates come from the
    page's markup only (meta tags, JSON-LD, <time>), never guessed from the text.
    """
    import trafilatura  # a second to import: only when there is HTML to read

    found = trafilatura.bare_extraction(
        source,
        favor_recall=True,
        include_comments=False,
        include_tables=True,
        with_metadata=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
        as_dict=True,
    )
    if not isinstance(found, dict):  # nothing that looks like an article
        return "", ArticleMeta()

    def field(name: str) -> str:
        return str(found.get(name) or "").strip()

    blocks = (line.strip() for line in field("text").split("\n"))
    return "\n\n".join(b for b in blocks if b), ArticleMeta(
        title=field("title"),
        outlet=field("sitename"),
        date=field("date") if _ISO_DAY.match(field("date")) else "",
        url=field("url"),
    )


# A line that is only a page number: "3", "- 3 -", "Seite 3", "Seite 3 von 7", "3/7".
_PAGE_NO = re.compile(r"^(?:[-–—]\s*)?(?:Seite|S\.|Page)?\s*\d+\s*(?:(?:von|of|/)\s*\d+)?(?:\s*[-–—])?$", re.I)
# German line-end hyphenation; a hyphen before "und/oder/bis/sowie" is part of "Nord- und Südkorea".
_HYPHEN_END = re.compile(r"(?<=\S)-$")
_KEEPS_HYPHEN = re.compile(r"^(?:und|oder|bis|sowie|als|wie|noch|beziehungsweise|bzw\.)\b")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st", "\xad": ""})
_FULL_STOP = re.compile(r"[.!?…][\"'“”»«)]*$")
_EDGE = 2  # lines at the top and bottom of a page that may be a running header or footer


def pdf_to_text(raw: bytes, path: Path) -> tuple[str, ArticleMeta]:
    """The text layer of a PDF, hyphenation undone and running headers/footers dropped.

    Scanned, encrypted and damaged files raise a RagError that says what to do.
    """
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError("needs a password")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = _pdf_title(reader)
    except (FileNotDecryptedError, DependencyError) as exc:
        raise RagError(
            f"{path} is a password-protected PDF ({exc}).",
            "Save a copy without the password (`qpdf --decrypt --password=PASSWORT in.pdf out.pdf`) and index that.",
        ) from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        # pypdf reports a damaged file with its own errors or, deeper inside, with plain ones.
        raise RagError(
            f"{path} is not a readable PDF ({type(exc).__name__}: {exc}).",
            "Open it in a PDF viewer and save or print it as a new PDF; a truncated download needs downloading again.",
        ) from exc
    lines = _drop_running_lines([_page_lines(p) for p in pages])
    if not any(lines):
        raise RagError(
            f"{path} has no text layer (a scanned or image-only PDF, {len(pages)} page(s)).",
            "Run OCR on it first, e.g. `ocrmypdf -l deu in.pdf out.pdf`, or save the article as text or HTML.",
        )
    return "\n\n".join(_paragraphs(lines)), ArticleMeta(title=title)


def _pdf_title(reader: Any) -> str:
    meta = getattr(reader, "metadata", None)
    title = str(meta.title or "").strip() if meta is not None else ""
    # Word and LaTeX write file names and "untitled" here; those are no titles.
    if (
        not title
        or title.lower().endswith((".doc", ".docx", ".pdf", ".tex"))
        or title.lower() in {"untitled", "ohne titel"}
    ):
        return ""
    return title


def _page_lines(text: str) -> list[str]:
    text = text.translate(_LIGATURES).replace("\r\n", "\n").replace("\r", "\n")
    return [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n") if line.strip()]


def _drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop page numbers, and lines at the top or bottom of most pages (page numbers counted as one)."""
    shape = [Counter({re.sub(r"\d+", "#", s) for s in page[:_EDGE] + page[-_EDGE:]}) for page in pages if page]
    seen = sum(shape, Counter())
    need = max(2, math.ceil(0.6 * len(pages)))
    running = {s for s, n in seen.items() if n >= need}
    kept = []
    for page in pages:
        edge = set(range(min(_EDGE, len(page)))) | set(range(max(0, len(page) - _EDGE), len(page)))
        kept.append(
            [
                s
                for i, s in enumerate(page)
                if not _PAGE_NO.match(s) and not (i in edge and re.sub(r"\d+", "#", s) in running)
            ]
        )
    return kept


def _paragraphs(pages: list[list[str]]) -> list[str]:
    """Join layout lines into paragraphs: a line well short of the text width ends one, and so does a
    page that ends with a full stop (a paragraph going on over the page break mid-sentence is joined)."""
    lengths = sorted(len(s) for page in pages for s in page)
    width = lengths[int(0.8 * (len(lengths) - 1))] if lengths else 0
    paragraphs: list[str] = []
    current = ""
    for page in pages:
        for line in page:
            if not current:
                current = line
            elif _HYPHEN_END.search(current):
                current = _join_hyphenated(current, line)
            else:
                current += " " + line
            if len(line) < 0.75 * width and not _HYPHEN_END.search(line):
                paragraphs.append(current)
                current = ""
        if current and _FULL_STOP.search(current):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def _join_hyphenated(current: str, line: str) -> str:
    if line[:1].islower() and current[-2:-1].isalpha() and not _KEEPS_HYPHEN.match(line):
        return current[:-1] + line  # "Verteidi-" + "gungsminister"
    if line[:1].isupper() or line[:1].isdigit():
        return current + line  # "US-" + "Marine", "2+2-" + "Beratungen"
    return current + " " + line  # "Nord-" + " und Südkorea"
