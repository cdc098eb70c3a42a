"""Read article files (text, Markdown, HTML, PDF), strip web boilerplate, and extract title/outlet/date/link.

Cleaning works on whole lines: navigation, ads, credits, teasers and comment widgets are lines of
their own in pasted web pages, so dropping lines keeps every kept sentence byte-identical. HTML and
PDF are turned into such lines first (`rag.extract`); what the user states (`rag.usermeta`) wins.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

from rag.errors import RagError
from rag.extract import html_to_text, pdf_to_text
from rag.types import ArticleMeta, Document
from rag.usermeta import read_sidecar, split_front_matter

log = logging.getLogger(__name__)

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}
HTML = {".html", ".htm"}
MAX_FILE_BYTES = 5_000_000
MAX_PDF_BYTES = 20_000_000  # a PDF carries fonts and images beside its text

# Lines that are web furniture in their entirety.
_BOILERPLATE = re.compile(
    r"""^(?:\d+\.\s*)?(?:
        Zum\ Inhalt\ springen | Zur\ Hauptnavigation\ springen | Zu\ weiteren\ Angeboten.* |
        Anzeige | Stats | Darstellung: | Kommentare | \d+ | Teilen | Drucken | Schließen |
        Noch\ keine\ Kommentare.* | Das\ könnte\ Sie\ auch\ interessieren.* | Mehr\ zum\ Thema:.* |
        Lesen\ Sie\ auch:?.* | Auch\ interessant:?.* | Zum\ Thema:.* | Home\ .* |
        (?:Foto|Bild|Bildquelle|Quelle):\ .* | .*\|\ Bildquelle:.* | DW-Porträt\ \|.* |
        [A-ZÄÖÜ][a-zäöüß]+(?:[A-ZÄÖÜ][a-zäöüß]+)+   # glued breadcrumb such as "PolitikJapan"
    )\s*$""",
    re.VERBOSE,
)
_URL_LINE = re.compile(r"^\s*(https?://\S+)\s*$")
_CREDIT_TAIL = re.compile(r"\s*Bild:\s[^.]*$")  # a caption with its image credit glued on
_CREDIT_PAREN = re.compile(r"\s*\((?:Foto|Bild|Bildquelle):[^)]*\)")
_MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]
_DATE_LONG = re.compile(r"^\s*(\d{1,2})\.\s*(" + "|".join(_MONTHS) + r")\s+(\d{4})\s*$")
_DATE_STAND = re.compile(r"^\s*Stand:\s*(\d{1,2})\.(\d{1,2})\.(\d{4})")
# Broadcasters' footer: "Über dieses Thema berichtete Inforadio am 17. August 2017 um 08:45 Uhr."
_REPORTED = re.compile(
    r"Über dieses Thema berichtete (?:die |der )?(\S+?(?: \S+?){0,2}?)"
    r"(?: am (\d{1,2})\.\s*(" + "|".join(_MONTHS) + r")\s+(\d{4})| um | in | im |\.|$)",
    re.MULTILINE,
)
_OUTLETS = ((re.compile(r"Angeboten der DW|p\.dw\.com|DW-Interview"), "DW"),)
_BODY_MIN = 100  # a line this long is article prose, not furniture
_SENTENCE_END = re.compile(r"[.!?…][\"'“”»«)]*$")


def discover(folder: Path, problems: dict[str, str] | None = None) -> list[Path]:
    """Article files under `folder`, sorted so ids and indexing order are stable.

    A subfolder that cannot be listed is recorded in `problems` (path → reason) when given, else
    raised: a caller that deletes what it does not find must know that the listing is incomplete.
    """
    if not folder.exists():
        raise RagError(
            f"The articles folder {folder} does not exist.",
            "Pass --seeds DIR or set RAG_SEEDS_DIR to a folder with .txt/.md/.html/.pdf files.",
        )
    if not folder.is_dir():
        raise RagError(f"{folder} is not a folder.", "Pass a folder of article files with --seeds.")

    def unreadable(exc: OSError) -> None:
        where = exc.filename or folder
        if problems is None or Path(where) == folder:
            raise RagError(
                f"The folder {where} cannot be read: {exc.strerror}.", "Check the folder's permissions."
            ) from exc
        problems[str(where)] = f"The folder {where} cannot be read: {exc.strerror}; its articles keep their chunks."
        log.warning("%s", problems[str(where)])

    found: list[Path] = []
    for root, dirs, names in os.walk(folder, onerror=unreadable):
        for d in dirs:
            if (Path(root) / d).is_symlink():
                log.warning("not followed: %s is a link to a folder", Path(root) / d)
        found.extend(Path(root) / n for n in names if Path(n).suffix.lower() in SUFFIXES)
    # A dangling or looping link stays in the list: reading it reports it, and its article keeps its chunks.
    return sorted(p for p in found if p.is_file() or p.is_symlink())


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A file's bytes, or a RagError saying why they cannot be had."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        hint = "Check where the link points." if path.is_symlink() else "Check the file's permissions."
        raise RagError(f"{path} cannot be read: {exc.strerror}.", hint) from exc
    if len(raw) > limit:
        raise RagError(
            f"{path} is {len(raw):,} bytes; the limit is {limit:,}.",
            "Split the file into one article per file.",
        )
    return raw


def read_text(path: Path) -> str:
    """Read a file as UTF-8 (a BOM is allowed); anything else is rejected with the reason."""
    raw = read_bytes(path)
    if b"\x00" in raw[:8192]:
        raise RagError(f"{path} looks binary, not like text.", "Save the article as UTF-8 text.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RagError(
            f"{path} is not valid UTF-8 (byte {exc.start}).",
            "Convert it, e.g. `iconv -f latin1 -t utf-8 FILE > FILE.new`.",
        ) from exc


def load_document(path: Path) -> Document:
    """Read, extract and clean one article file; front matter and a NAME.meta.json sidecar override its metadata."""
    suffix = path.suffix.lower()
    stated: dict[str, str] = {}
    if suffix == ".pdf":
        text, meta = pdf_to_text(read_bytes(path, MAX_PDF_BYTES), path)
    elif suffix in HTML:
        text, meta = html_to_text(read_text(path))
    else:
        text, stated = split_front_matter(read_text(path), path)
        meta = ArticleMeta()
    stated |= read_sidecar(path)
    cleaned, found = clean(text, pasted=suffix not in HTML | {".pdf"})
    meta = replace(meta.fill(found), **stated)
    if not cleaned.strip():
        raise RagError(f"{path} has no article text after cleaning.", "Check that the file is an article.")
    # Stated metadata is part of the version, so editing a sidecar re-indexes the article.
    key = cleaned + ("\x00" + json.dumps(stated, sort_keys=True) if stated else "")
    return Document(
        doc_id=path.stem,
        text=cleaned,
        **meta.as_dict(),
        content_hash=hashlib.sha256(key.encode()).hexdigest(),
    )


def clean(text: str, pasted: bool = True) -> tuple[str, ArticleMeta]:
    """Return the article without boilerplate lines, plus the metadata the lines revealed.

    A pasted page ends in widgets and teasers, so every short line after the last long one goes; text
    an extractor already took from a page or PDF loses only a trailing byline.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    url, kept = "", []
    for i, line in enumerate(lines):
        s = line.strip()
        if m := _URL_LINE.match(s):
            url = url or _unwrap_url(m.group(1))
            continue
        if _BOILERPLATE.match(s) or _is_alt_text(s, lines[i + 1 : i + 3]):
            continue
        kept.append(_CREDIT_PAREN.sub("", _CREDIT_TAIL.sub("", s)))
    kept = _trim_tail(kept) if pasted else _trim_byline(kept)
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return body, ArticleMeta(title=_title(text, kept), outlet=_outlet(text), date=_date(kept, text), url=url)


def _unwrap_url(url: str) -> str:
    """Links copied through a proxy look like `https://proxy/https/p.dw.com/...`; keep the target."""
    m = re.search(r"/(https?)/(.+)$", url)
    return f"{m.group(1)}://{m.group(2)}" if m else url


def _is_alt_text(line: str, following: list[str]) -> bool:
    """An image's alt text is repeated by the caption (with credit) right below it."""
    captions = [f for f in following if "Bild:" in f]
    if not line or not captions:
        return False
    words = set(re.findall(r"\w+", line.lower()))
    other = set(re.findall(r"\w+", captions[0].lower()))
    return len(words) > 3 and len(words & other) / len(words) >= 0.6 and line != captions[0].strip()


def _trim_tail(lines: list[str]) -> list[str]:
    """After the last paragraph of prose come bylines, teasers and widgets: drop short trailing lines."""
    last = max((i for i, s in enumerate(lines) if len(s) >= _BODY_MIN), default=len(lines) - 1)
    return lines[: last + 1]


def _trim_byline(lines: list[str]) -> list[str]:
    """Drop short trailing lines that are no sentence: "Von Anna Muster, ARD-Studio Tokio", "mak/kle (dpa, afp)"."""
    end = len(lines)
    while end and (
        not lines[end - 1] or (len(lines[end - 1]) < _BODY_MIN and not _SENTENCE_END.search(lines[end - 1]))
    ):
        end -= 1
    return lines[:end]


def _headline(s: str) -> bool:
    return 0 < len(s) < 160 and not s.endswith((".", ":", "“", '"')) and not _DATE_LONG.match(s)


def _title(raw: str, kept: list[str]) -> str:
    """The breadcrumb's last item if the page has one, else the headline under an optional kicker."""
    for line in raw.splitlines():
        words = line.split()
        if words[:1] == ["Home"]:
            for skip in range(1, 5):
                if (tail := " ".join(words[skip:])) in kept:
                    return tail
    top = []
    for s in kept:
        if len(s) >= _BODY_MIN or _DATE_LONG.match(s) or s.startswith("Stand:"):
            break
        top.append(s)
    heads = [i for i, s in enumerate(top) if _headline(s)]
    if not heads:
        return ""
    first = heads[0]
    # A kicker sits directly above the real headline, with no blank line between.
    if first + 1 < len(top) and top[first + 1] and _headline(top[first + 1]):
        return top[first + 1]
    return top[first]


def _outlet(raw: str) -> str:
    for pattern, name in _OUTLETS:
        if pattern.search(raw):
            return name
    m = _REPORTED.search(raw)
    return m.group(1) if m else ""


def _date(kept: list[str], raw: str) -> str:
    """ISO date from a dateline ("2. November 2013"), a "Stand: 17.08.2017" stamp or a broadcaster's footer.

    A date that does not exist in the calendar gives no date rather than a wrong one.
    """
    for s in kept[:20]:
        if m := _DATE_LONG.match(s):
            return _iso(m.group(3), _MONTHS.index(m.group(2)) + 1, m.group(1))
        if m := _DATE_STAND.match(s):
            return _iso(m.group(3), m.group(2), m.group(1))
    if (m := _REPORTED.search(raw)) and m.group(2):
        return _iso(m.group(4), _MONTHS.index(m.group(3)) + 1, m.group(2))
    return ""


def _iso(year: str | int, month: str | int, day: str | int) -> str:
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return ""
