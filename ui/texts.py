"""Which language a visitor's interface gets, and Gradio's labels; the strings themselves live in `rag.texts`.

The interface follows the browser (Gradio reads `navigator.language`; the server reads the same
preference from `Accept-Language`); answers follow the language of each question.
"""

from __future__ import annotations

import sys

import gradio as gr

from rag.errors import RagError
from rag.pipeline import check_question
from rag.texts import DOCS, LABELS, TEXT

__all__ = ["DOCS", "I18N", "TEXT", "interface_lang", "megabytes", "question_problem"]

# Labels Gradio translates in the browser: German for German browsers, English for all others.
I18N = gr.I18n(**LABELS)


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


def megabytes(n: int, lang: str) -> str:
    """5 MB, 2,5 MB in German."""
    text = f"{n / 1_000_000:g} MB"
    return text.replace(".", ",") if lang == "de" else text
