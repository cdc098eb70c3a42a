"""German (and English) sentence splitting with character offsets, for quoting exact sentences.

Hand-written on purpose: pysbd and syntok both split "am 2. November 2013" after the ordinal,
which breaks every dated sentence in news text. The rules here are few and tested.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Abbreviations that end with a period inside a sentence (lower-cased, without the period).
_ABBREV = frozenset(
    """
    dr prof nr ca bzw vgl sog usw etc evtl ggf inkl zzgl abs art bd hr fr st str mio mrd tsd jan feb
    febr mär apr jun jul aug sep sept okt nov dez mr mrs ms jr vs u z b a d h o e s i ff ausg jh jhd
    gen lt kpt mag dipl ing min max co corp inc ltd
    """.split()
)
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"[.!?…]+[\"'»«“”‘’)\]]*(?=\s)")
# Cleaned articles put headings, captions and paragraphs on lines of their own.
_PARAGRAPH = re.compile(r"\n\s*")
_WORD_BEFORE = re.compile(r"(\w+)[.]$")


def split(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in `text`, stripped of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    for p_start, p_end in _paragraphs(text):
        start = p_start
        for m in _BOUNDARY.finditer(text, p_start, p_end):
            if _is_boundary(text, m.start(), m.end(), p_end):
                spans.extend(_strip(text, start, m.end()))
                start = m.end()
        spans.extend(_strip(text, start, p_end))
    return spans


def sentences(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, sentence) triples; `text[start:end] == sentence` always holds."""
    for s, e in split(text):
        yield s, e, text[s:e]


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for m in _PARAGRAPH.finditer(text):
        yield start, m.start()
        start = m.end()
    yield start, len(text)


def _is_boundary(text: str, punct_start: int, punct_end: int, limit: int) -> bool:
    """A period is no boundary after an abbreviation, an initial or a day/ordinal number."""
    nxt = re.match(r"\s*(\S)", text[punct_end:limit])
    if nxt is None:
        return True
    if text[punct_start] != ".":
        return True
    if nxt.group(1).islower() or nxt.group(1) in ",;:":
        return False  # "z. B. die", "Dr. med." — a new sentence starts with a capital or a quote
    m = _WORD_BEFORE.search(text, max(0, punct_start - 30), punct_start + 1)
    if m is None:
        return True
    word = m.group(1)
    if len(word) == 1:
        return False  # an initial: "J. Biden", "z. B."
    if word.isdigit():
        return len(word) > 2  # "2. November" is an ordinal; "im Jahr 2013. Danach" ends a sentence
    return word.lower() not in _ABBREV


def _strip(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if end > start else []
