"""Tell German from English questions, so refusals and answers come in the asker's language.

Two languages only, so function-word counts beat a language-identification model: questions
are short, and "Who/What/Wer/Was" plus a few particles decide almost every case.
"""

from __future__ import annotations

import re

_EN = frozenset(
    """
    the a an of to in on at is are was were did does do what who whom which when where why how and
    or with for from about by has have had will would can could should their there this that these
    those it its be been say said
    """.split()
)
_DE = frozenset(
    """
    der die das den dem des ein eine einen einem einer und oder mit für von über bei ist sind war
    waren hat haben hatte wird wurde wer wen wem was welche welcher welches wann wo warum wie woher
    wohin worüber womit nicht auch noch zu im am vom zum zur dazu sich sie er es welchem welchen wessen
    wieviel wieviele seit nach aus einem
    """.split()
)
_WORD = re.compile(r"[a-zäöüß]+")


def detect(text: str, default: str = "de") -> str:
    """'de' or 'en'; umlauts and ß count for German, ties go to `default` (the corpus language)."""
    words = _WORD.findall(text.lower())
    de = sum(w in _DE for w in words) + 2 * sum(any(c in w for c in "äöüß") for w in words)
    en = sum(w in _EN for w in words)
    if de == en:
        return default
    return "de" if de > en else "en"
