"""Metadata the user states for an article: front matter in .md/.txt files and NAME.meta.json sidecars.

Both take the keys title, outlet, date, url; what they give replaces what extraction found (an empty
value blanks a wrong one). Anything else is an error with the line or key, so a typo is not ignored.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from rag.errors import RagError
from rag.types import ARTICLE_KEYS

SIDECAR = ".meta.json"
_FENCE = "---"
_MAX_LINES = 50  # front matter is a handful of lines; a "---" further down is a rule in the text
_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:(?:\s+(.*))?$")
_GERMAN_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def sidecar_of(path: Path) -> Path:
    """`artikel.html` → `artikel.meta.json`, beside it."""
    return path.with_name(path.stem + SIDECAR)


def split_front_matter(text: str, path: Path) -> tuple[str, dict[str, str]]:
    """The text after a leading `---` … `---` block, and the block's keys. Text without one is returned as is."""
    lines = text.split("\n")
    if lines[0].rstrip() != _FENCE:
        return text, {}
    end = next((i for i, s in enumerate(lines[1:_MAX_LINES], 1) if s.rstrip() in (_FENCE, "...")), 0)
    if not end:
        raise RagError(
            f"{path} starts with '---' but its front matter is not closed by a '---' line.",
            "Close the block with a line '---' after the title/outlet/date/url lines, or remove the first line.",
        )
    found: dict[str, str] = {}
    for no, line in enumerate(lines[1:end], 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line.rstrip())
        if not m:
            raise RagError(
                f"{path}, line {no}: {line.strip()[:60]!r} is not a 'key: value' line of the front matter.",
                "Write one 'title: …', 'outlet: …', 'date: YYYY-MM-DD' or 'url: …' per line.",
            )
        found[m.group(1).lower()] = _unquote(m.group(2) or "")
    return "\n".join(lines[end + 1 :]), _checked(found, f"{path}, front matter")


def read_sidecar(path: Path) -> dict[str, str]:
    """The keys of `path`'s NAME.meta.json, or {} when it has none."""
    side = sidecar_of(path)
    try:
        raw = side.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"{side} cannot be read: {exc}.", "Check the file's permissions and save it as UTF-8.") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RagError(
            f"{side} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
            'Write an object such as {"title": "…", "outlet": "…", "date": "2024-05-01", "url": "https://…"}.',
        ) from exc
    if not isinstance(data, dict):
        raise RagError(f"{side} holds a {type(data).__name__}, not an object.", 'Write {"title": "…", …}.')
    for key, value in data.items():
        if value is not None and not isinstance(value, str):
            raise RagError(f"{side}: {key!r} is {value!r}, not text.", f'Quote it: "{key}": "{value}".')
    return _checked({str(k).lower(): v or "" for k, v in data.items()}, str(side))


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _checked(found: dict[str, str], where: str) -> dict[str, str]:
    unknown = sorted(set(found) - set(ARTICLE_KEYS))
    if unknown:
        raise RagError(
            f"{where}: unknown key {', '.join(map(repr, unknown))}.", f"The keys are {', '.join(ARTICLE_KEYS)}."
        )
    out = {k: v.strip() for k, v in found.items()}
    if out.get("date"):
        out["date"] = _iso(out["date"], where)
    url = out.get("url", "")
    if url and not re.match(r"^https?://\S+$", url):
        raise RagError(f"{where}: url {url!r} is not a web address.", "Write it as https://….")
    return out


def _iso(value: str, where: str) -> str:
    """YYYY-MM-DD (or DD.MM.YYYY), checked against the calendar."""
    m = _GERMAN_DAY.match(value)
    parts = (m.group(3), m.group(2), m.group(1)) if m else value.split("-")
    try:
        if len(parts) != 3 or len(parts[0]) != 4:
            raise ValueError(value)
        return date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
    except ValueError:
        raise RagError(f"{where}: date {value!r} is not a date.", "Write it as YYYY-MM-DD, e.g. 2024-05-01.") from None
