"""Every interface string of the chat, in German and English, and which of the two a visitor gets.

The interface follows the browser (Gradio reads `navigator.language`; the server reads the same
preference from `Accept-Language`); answers follow the language of each question.
"""

from __future__ import annotations

import sys

import gradio as gr

from rag.errors import RagError
from rag.pipeline import check_question

# Labels Gradio translates in the browser: German for German browsers, English for all others.
I18N = gr.I18n(
    de={
        "title": "Fragen an die Artikel",
        "question": "Frage",
        "placeholder": "Frage auf Deutsch oder Englisch, z. B. Welche Länder hielten Manöver ab?",
        "ask": "Fragen",
        "clear": "Neues Gespräch",
        "generator": "Antwort-Generator",
        "examples": "Beispiele",
        "chat": "Antworten mit Quellen",
    },
    en={
        "title": "Ask the articles",
        "question": "Question",
        "placeholder": "Ask in German or English, e.g. Which countries held maneuvers?",
        "ask": "Ask",
        "clear": "New conversation",
        "generator": "Answer generator",
        "examples": "Examples",
        "chat": "Answers with sources",
    },
)

# Strings the server renders (status line, sources panel, errors).
TEXT = {
    "de": {
        "ready": "Bereit: {chunks} Abschnitte aus {articles} Artikeln.",
        "sources": "Quellen",
        "related": "Vielleicht verwandt:",
        "unsupported": "Ohne Beleg in den Quellen:",
        "no_sources": "Noch keine Quellen.",
        "link": "Artikel öffnen",
        "known": "Der Assistent kennt diese Artikel:",
        "known_hint": "Die Quellen jeder Antwort erscheinen hier.",
        "quoted": "Zitiert aus den deutschen Artikeln:",
        "empty": "Die Frage ist leer. Bitte eine Frage eingeben, z. B. „Welche Länder hielten Manöver ab?“",
        "too_long": "Die Frage ist {n} Zeichen lang; erlaubt sind {limit}. Bitte kürzer fragen.",
        "failed": "Darauf konnte gerade keine Antwort erstellt werden. Bitte noch einmal oder mit einem anderen "
        "Antwort-Generator versuchen.",
        "index_down": "Der Index ist gerade nicht erreichbar. Bitte in ein paar Sekunden noch einmal versuchen.",
    },
    "en": {
        "ready": "Ready: {chunks} passages from {articles} articles.",
        "sources": "Sources",
        "related": "Maybe related:",
        "unsupported": "Not supported by the sources:",
        "no_sources": "No sources yet.",
        "link": "open article",
        "known": "The assistant knows these articles:",
        "known_hint": "The sources of each answer appear here.",
        "quoted": "Quoted from the German articles:",
        "empty": "The question is empty. Type a question, e.g. “Which countries held maneuvers?”",
        "too_long": "The question is {n} characters long; the limit is {limit}. Please ask a shorter one.",
        "failed": "No answer could be made just now. Please try again or choose another answer generator.",
        "index_down": "The index cannot be reached right now. Please try again in a few seconds.",
    },
}


def interface_lang(accept_language: str | None, fallback: str = "de") -> str:
    """'de' for browsers that prefer German, 'en' for every other browser (Gradio's own rule).

    Without the header (API clients, gradio_client) there is no interface: `fallback` decides.
    """
    if not accept_language or not accept_language.strip():
        return fallback
    first = accept_language.split(",")[0].split(";")[0].strip().lower()
    return "de" if first.split("-")[0] == "de" else "en"


def question_problem(question: str, limit: int, lang: str) -> str | None:
    """What is wrong with a question, in `lang`, or None: the pipeline's own check, said in the interface language."""
    try:
        q = check_question(question, sys.maxsize)
    except RagError:
        return TEXT[lang]["empty"]
    if len(q) > limit:
        return TEXT[lang]["too_long"].format(n=_number(len(q), lang), limit=_number(limit, lang))
    return None


def _number(n: int, lang: str) -> str:
    """2.500 in German, 2,500 in English."""
    return f"{n:,}".replace(",", "." if lang == "de" else ",")
