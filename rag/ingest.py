"""Read article files (text, Markdown, HTML), strip web boilerplate, and extract title/outlet/date/link.

Cleaning works on whole lines: navigation, ads, credits, teasers and comment widgets are lines of
their own in pasted web pages, so dropping lines keeps every kept sentence byte-identical.
"""

from __future__ import annotations

import hashlib
import html
import logging
import os
import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from rag.errors import RagError
from rag.types import Document

log = logging.getLogger(__name__)

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
MAX_FILE_BYTES = 5_000_000

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


@dataclass(frozen=True)
class _Meta:
    title: str = ""
    outlet: str = ""
    date: str = ""
    url: str = ""


def discover(folder: Path, problems: dict[str, str] | None = None) -> list[Path]:
    """Article files under `folder`, sorted so ids and indexing order are stable.

    A subfolder that cannot be listed is recorded in `problems` (path → reason) when given, else
    raised: a caller that deletes what it does not find must know that the listing is incomplete.
    """
    if not folder.exists():
        raise RagError(
            f"The articles folder {folder} does not exist.",
            "Pass --seeds DIR or set RAG_SEEDS_DIR to a folder with .txt/.md/.html files.",
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


def read_text(path: Path) -> str:
    """Read a file as UTF-8 (a BOM is allowed); anything else is rejected with the reason."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        hint = "Check where the link points." if path.is_symlink() else "Check the file's permissions."
        raise RagError(f"{path} cannot be read: {exc.strerror}.", hint) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise RagError(
            f"{path} is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}.",
            "Split the file into one article per file.",
        )
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
    """Read and clean one article file."""
    text = read_text(path)
    meta = _Meta()
    if path.suffix.lower() in {".html", ".htm"}:
        text, meta = html_to_text(text)
    cleaned, found = clean(text)
    meta = _Meta(
        *(
            a or b
            for a, b in zip(
                (meta.title, meta.outlet, meta.date, meta.url),
                (found.title, found.outlet, found.date, found.url),
                strict=True,
            )
        )
    )
    if not cleaned.strip():
        raise RagError(f"{path} has no article text after cleaning.", "Check that the file is an article.")
    digest = hashlib.sha256(cleaned.encode()).hexdigest()
    return Document(
        doc_id=path.stem,
        text=cleaned,
        title=meta.title,
        outlet=meta.outlet,
        date=meta.date,
        url=meta.url,
        source_path=str(path),
        content_hash=digest,
    )


def clean(text: str) -> tuple[str, _Meta]:
    """Return the article without boilerplate lines, plus the metadata the lines revealed."""
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
    kept = _trim_tail(kept)
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return body, _Meta(title=_title(text, kept), outlet=_outlet(text), date=_date(kept, text), url=url)


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


class _HTMLText(HTMLParser):
    """Visible text of an HTML page, one block element per line, plus its meta tags."""

    SKIP = {"script", "style", "nav", "header", "footer", "aside", "form", "noscript", "figure"}
    BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "li", "br", "section", "article", "tr", "time"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self.skip = 0
        self.in_title = False
        self.title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta":
            key = a.get("property") or a.get("name") or ""
            self.meta[key] = a.get("content", "")
        elif tag == "link" and a.get("rel") == "canonical":
            self.meta.setdefault("og:url", a.get("href", ""))
        if tag in self.SKIP:
            self.skip += 1
        self.in_title = tag == "title"
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skip:
            self.skip -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")
        self.in_title = False

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(source: str) -> tuple[str, _Meta]:
    parser = _HTMLText()
    parser.feed(source)
    text = "\n".join(line.strip() for line in "".join(parser.parts).split("\n"))
    m = parser.meta
    published = (m.get("article:published_time") or m.get("date") or "")[:10]
    return html.unescape(text), _Meta(
        title=m.get("og:title") or parser.title.strip(),
        outlet=m.get("og:site_name", ""),
        date=published if re.match(r"^\d{4}-\d{2}-\d{2}$", published) else "",
        url=m.get("og:url", ""),
    )
