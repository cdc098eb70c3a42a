"""What kind of answer a question expects (date, number, person, place), and whether a sentence holds one.

Question words decide the type in German and English alike; the candidates are found by surface
forms that look the same in both languages (digits, years, month names, capitalised names), so a
German sentence can answer an English "When …?". A sentence without a candidate of the expected
type is unlikely to answer; a candidate the question already names does not count.
"""

from __future__ import annotations

import re

TYPES = ("date", "number", "person", "place", "other")

# Checked in order: "Wie viele Jahre …" asks for a number, "In welchem Jahr …" for a date.
_QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "date",
        re.compile(
            r"\b(wann|seit wann|bis wann|in welche[mn] jahr|an welchem tag|welche[sn]? datum|welche[mn]? jahr"
            r"|when|what year|which year|what date|in what year|what century|which century|welche[mn] jahrhundert)\b"
        ),
    ),
    (
        "number",
        re.compile(
            r"\b(wie ?viele?|wie hoch|wie groß|wie lang|wie alt|wie weit|wie oft|wie schnell|wie schwer|wie teuer"
            r"|welche[rn]? anteil|wie viel prozent|how many|how much|how large|how big|how long|how old|how far"
            r"|how often|how high|how fast|what percentage|what proportion|what fraction)\b"
        ),
    ),
    ("person", re.compile(r"\b(wer|wem|wen|wessen|who|whom|whose)\b")),
    (
        "place",
        re.compile(
            r"\b(wo|wohin|woher|in welche[mrn]? (land|stadt|region|staat)|where|which country|what country"
            r"|which city|what city|in which)\b"
        ),
    ),
)

_MONTHS = (
    "januar jänner februar märz april mai juni juli august september oktober november dezember january february "
    "march may june july october december jan feb mär apr jun jul aug sep sept okt oct nov dez dec"
)
_WEEKDAYS = "montag dienstag mittwoch donnerstag freitag samstag sonntag monday tuesday wednesday thursday friday"
_DATE = re.compile(
    r"\b(1[0-9]{3}|20[0-9]{2})(er)?\b|\b(" + "|".join((_MONTHS + " " + _WEEKDAYS).split()) + r")\b"
    r"|\b(jahrhundert\w*|jahrzehnt\w*|century|centuries|decade)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig vierzig fünfzig hundert tausend "
    "million millionen milliarde milliarden prozent hälfte dutzend doppelt two three four five six seven eight "
    "nine ten eleven twelve twenty thirty forty fifty hundred thousand million billion percent half dozen"
)
_NUMBER = re.compile(r"\d|\b(" + "|".join(_NUMBER_WORDS.split()) + r")\b", re.IGNORECASE)
# Two capitalised words in a row ("Jared Allen", "Wladimir Putin"), or a word with an inner
# capital or a hyphenated name ("McDonald", "Nord-Korea"): names, where German nouns alone are not.
_NAME = re.compile(r"\b[A-ZÄÖÜ][\w'’-]+(?:\s+(?:von|van|de|der|bin|al)?\s*[A-ZÄÖÜ][\w'’-]+)+")
# "in Kasan", "im russischen Kasan", "in der Ukraine": a preposition of place before a name.
_PLACE = re.compile(
    r"\b(in|im|nach|aus|bei|vor|an der|am)\s+(der\s+|dem\s+|den\s+)?([a-zäöüß]+e[nmrs]?\s+)?[A-ZÄÖÜ][\w-]+"
)
_WORD = re.compile(r"\w+")


# Questions whose answer is a list across articles: "Welche Länder hielten Manöver ab?"
_LIST = re.compile(
    r"\b(welche|which|what)\s+(länder|staaten|nationen|parteien|seiten|teilnehmer|countries|nations|states|parties"
    r"|sides|participants)\b|\bwer (alles|außerdem)\b|\bwho else\b",
    re.IGNORECASE,
)


def asks_for_list(question: str) -> bool:
    """Whether the last question asks for several participants, which several articles may name."""
    return bool(_LIST.search(last_question(question)))


def last_question(text: str) -> str:
    """The last question of a text: a follow-up is searched joined to the one before it."""
    parts = [p for p in re.split(r"(?<=[?!.])\s+", text.strip()) if p.strip()]
    return parts[-1] if parts else text


def question_type(question: str) -> str:
    """One of `TYPES`, from the question words of the last question in `question`."""
    q = last_question(question).lower()
    for kind, pattern in _QUESTION_TYPES:
        if pattern.search(q):
            return kind
    return "other"


def has_candidate(kind: str, sentence: str, question: str) -> bool:
    """Whether `sentence` holds a candidate of `kind` that the question does not already name."""
    pattern = {"date": _DATE, "number": _NUMBER, "person": _NAME, "place": _PLACE}.get(kind)
    if pattern is None:
        return False
    asked = {w.lower() for w in _WORD.findall(question)}
    for m in pattern.finditer(sentence):
        words = [w.lower() for w in _WORD.findall(m.group())]
        if words and not all(w in asked for w in words):
            return True
    return False
