"""English question words in German, so BM25 can match an English question against German articles.

BM25 over German text finds an English question only by its names and numbers ("How large is
Germany's defence budget?" shares no word with "Verteidigungshaushalt"). A bilingual dictionary
bridges that: each English word or two-word phrase of the question is looked up and its German
translations that the corpus knows join the BM25 query (`rag.lexical`), a standard way of
cross-language retrieval without a translation model.

The dictionary is Ding's German–English word list (Frank Richter, TU Chemnitz, GPL-2.0-or-later),
which Debian and Ubuntu ship as the package `trans-de-en` (`/usr/share/trans/de-en`, 25 MB). It
is read where the system has it, never copied into this project; the first use turns it into a
small SQLite table in the cache folder, so a process looks words up without parsing 200,000 lines.
Without the file, English questions are searched as before (dense retrieval carries them).
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from bm25s.stopwords import STOPWORDS_EN_PLUS

log = logging.getLogger(__name__)

DEBIAN = Path("/usr/share/trans/de-en")  # apt-get install trans-de-en
OFF = "off"
# Part of the table's name: a change to `parse` builds the table anew.
FORMAT = 3
# Question words carry no topic; the stop list has most of them already.
_STOP = frozenset(STOPWORDS_EN_PLUS) | frozenset(
    "did does do which what who whom whose when where why how many much kind sort type".split()
)
# Keys per query: older SQLite builds allow 999 parameters (a 2,000-character question has more forms).
_BATCH = 500
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# Ding's annotations: {f} gender, [mil.] field, (…) glosses, <…> and /…/ abbreviations.
_NOTE = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)|<[^>]*>|(?:^|\s)/[^/]+/(?=\s|$)")
# What is left must be one word ("+Dat.}" and "wohin?)" are the rests of nested notes).
_GERMAN_WORD = re.compile(r"[^\W\d_][\w-]*")
# Placeholders of a phrase ("to accuse sb. of sth." is an entry for "accuse").
_SLOT = re.compile(r"\b(sb|sth|so|one's|oneself|someone|something)\.?(/\w+\.?)*", re.IGNORECASE)
# … and of the German side ("jdm. etw. vorwerfen" is "vorwerfen").
_DE_SLOT = re.compile(r"(?<!\w)(jdm|jdn|jds|jd|etw|sich)\b\.?(/\w+\.?)*", re.IGNORECASE)
_TRAILING_PREPOSITION = re.compile(r"\s+(of|with|for|to|on|in|about|at|from|by)$")


def _clean(text: str) -> str:
    return " ".join(_NOTE.sub(" ", text).split()).strip(" ,.")


def parse(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(English word or two-word phrase, German word) pairs of Ding-format lines.

    A line is `German | German … :: English | English …`; the parts between `|` correspond, and
    `;` separates synonyms. Only single German words are kept (BM25 matches words), and English
    keys of at most two words, lower-cased, without "to " and placeholders.
    """
    for line in lines:
        if line.startswith("#") or "::" not in line:
            continue
        german, english = line.rstrip("\n").split("::", 1)
        parts_de, parts_en = german.split(" | "), english.split(" | ")
        if len(parts_de) != len(parts_en):
            continue
        for de, en in zip(parts_de, parts_en, strict=True):
            words = [_clean(_DE_SLOT.sub(" ", _clean(w))).replace("…", "").replace("...", "") for w in de.split(";")]
            words = [w for w in words if len(w) > 2 and _GERMAN_WORD.fullmatch(w)]
            if not words:
                continue
            for alt in en.split(";"):
                key = _clean(_SLOT.sub(" ", _clean(alt))).lower().removeprefix("to ")
                key = _TRAILING_PREPOSITION.sub("", key)
                if key and len(key.split()) <= 2:
                    for w in words:
                        yield key, w


def _forms(word: str) -> list[str]:
    """The word and the base forms it may inflect from ("exercises" → "exercise", "agreed" → "agree")."""
    out = [word]
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    if word.endswith("es"):
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        out.append(word[:-1])
    if word.endswith("ed"):
        out += [word[:-1], word[:-2]]
    if word.endswith("ing"):
        out += [word[:-3], word[:-3] + "e"]
    return out


class Glossary:
    """English → German look-ups in the SQLite table built from a Ding file; thread-safe."""

    def __init__(self, table: Path) -> None:
        self._db = sqlite3.connect(f"file:{table}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()

    def lookup(self, *keys: str) -> dict[str, list[str]]:
        """German translations of English words or phrases (those it has), in the dictionary's order."""
        rows = []
        with self._lock:
            for i in range(0, len(keys), _BATCH):
                part = keys[i : i + _BATCH]
                marks = ",".join("?" * len(part))
                rows += self._db.execute(
                    f"SELECT en, de FROM words WHERE en IN ({marks}) ORDER BY rowid", part
                ).fetchall()
        out: dict[str, list[str]] = {}
        for en, de in rows:
            out.setdefault(en, []).append(de)
        return out

    def translate(self, question: str) -> list[list[str]]:
        """One list of German alternatives per English term of the question, two-word phrases first.

        Capitalised words inside the question are names: they match the articles as they are.
        All candidate keys are looked up in one query.
        """
        words = _WORD.findall(question)
        low = [w.lower() for w in words]
        content = [w not in _STOP and not (i > 0 and words[i][0].isupper()) for i, w in enumerate(low)]
        keys = {f for i, w in enumerate(low) if content[i] for f in _forms(w)}
        keys |= {
            f"{low[i]} {f}"
            for i in range(len(low) - 1)
            if content[i] and low[i + 1] not in _STOP
            for f in _forms(low[i + 1])
        }
        found = self.lookup(*keys) if keys else {}
        out: list[list[str]] = []
        i = 0
        while i < len(low):
            if not content[i]:
                i += 1
                continue
            if i + 1 < len(low) and (
                t := next((found[k] for f in _forms(low[i + 1]) if (k := f"{low[i]} {f}") in found), None)
            ):
                out.append(t)
                i += 2
                continue
            if t := next((found[f] for f in _forms(low[i]) if f in found), None):
                out.append(t)
            i += 1
        return out


def build(source: Path, table: Path) -> None:
    """Write the look-up table for `source` to `table` (through a temporary file, then renamed)."""
    table.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=table.parent, suffix=".tmp")
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        db.execute("CREATE TABLE words (en TEXT NOT NULL, de TEXT NOT NULL, UNIQUE (en, de))")
        with source.open(encoding="utf-8", errors="replace") as f:
            db.executemany("INSERT OR IGNORE INTO words VALUES (?, ?)", parse(f))
        db.execute("CREATE INDEX by_en ON words (en)")
        db.commit()
        db.close()
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep other users of a shared cache out
        os.replace(tmp, table)
    finally:
        Path(tmp).unlink(missing_ok=True)


def source_path(setting: str) -> Path | None:
    """The dictionary file to use: `RAG_GLOSSARY` when set ("off": none), else Debian's if installed."""
    if setting.strip().lower() == OFF:
        return None
    if setting:
        return Path(setting).expanduser()
    return DEBIAN if DEBIAN.is_file() else None


def load(setting: str, cache_dir: Path) -> Glossary | None:
    """The glossary for `setting`, its table built on first use; None (logged) when there is no file.

    The table is named by the source file's size and modification time and the parser's
    `FORMAT`, so an updated package or parser builds a new one.
    """
    source = source_path(setting)
    if source is None:
        if setting.strip().lower() != OFF:
            log.info("no English-German dictionary (apt-get install trans-de-en, or RAG_GLOSSARY=FILE)")
        return None
    try:
        stat = source.stat()
        table = cache_dir / "glossary" / f"{source.name}-v{FORMAT}-{stat.st_size}-{stat.st_mtime_ns}.sqlite"
        if not table.is_file():
            log.info("building the English-German look-up table from %s (once)", source)
            build(source, table)
        return Glossary(table)
    except (OSError, sqlite3.Error, UnicodeError) as exc:
        log.warning(
            "English-German dictionary %s unusable (%s); English questions use names and numbers only", source, exc
        )
        return None
