"""The interface language a browser gets, and question problems said in it."""

from __future__ import annotations

import pytest

from ui.texts import TEXT, interface_lang, question_problem


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("DE-at", "de"),
        ("en-US,de;q=0.9", "en"),  # the first preference decides
        ("fr-FR", "en"),  # every other language gets English
        ("dee", "en"),
    ],
)
def test_interface_follows_the_browsers_first_language(header: str, lang: str) -> None:
    assert interface_lang(header) == lang


def test_without_a_header_the_fallback_decides() -> None:
    assert interface_lang(None) == interface_lang("  ") == "de"
    assert interface_lang(None, fallback="en") == "en"


def test_question_problems_in_the_interface_language() -> None:
    assert question_problem("Wer kam nach Tokio?", 2000, "de") is None
    assert question_problem(" \x00\t ", 2000, "de") == TEXT["de"]["empty"]
    assert question_problem("", 2000, "en") == TEXT["en"]["empty"]
    assert question_problem("x" * 2500, 2000, "de") == TEXT["de"]["too_long"].format(n="2.500", limit="2.000")
    assert question_problem("x" * 2500, 2000, "en") == TEXT["en"]["too_long"].format(n="2,500", limit="2,000")
