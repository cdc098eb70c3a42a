"""What the CLI prints: article text never brings terminal escape sequences, bidi overrides or bells along."""

from __future__ import annotations

import pytest

from rag.terminal import safe, show_hits, show_sources
from rag.texts import TEXT
from rag.types import Answer, Chunk, Citation, Hit

ESCAPES = "\x1b[2J\x1b]0;gehackt\x07\u202e\x9b\x00"
CONTROLS = set("\x1b\x07\u202e\x9b\x00")


def test_safe_drops_control_characters_and_keeps_text_tabs_and_newlines() -> None:
    assert safe(f"Marinemanöver{ESCAPES} im Pazifik\n\tZeile") == "Marinemanöver[2J]0;gehackt im Pazifik\n\tZeile"
    assert safe("Grüße „aus“ Köln – 2+2") == "Grüße „aus“ Köln – 2+2"


def _hit(text: str, **meta: str) -> Hit:
    return Hit(Chunk("d:0", "d", 0, len(text), text, meta), 0.5)


def test_hits_and_sources_are_printed_without_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    show_hits([_hit(f"Text{ESCAPES}\nzweite Zeile", title=f"Titel{ESCAPES}", date="2013-11-02")])
    cite = Citation(1, "d", 0, 4, f"Zitat{ESCAPES}", title="T", outlet="DW", date="2013-11-02", url="https://x.example")
    show_sources(Answer("Antwort [1]", (cite,), unsupported=(f"Behauptung{ESCAPES}",), notice=f"Hinweis{ESCAPES}"))
    out = capsys.readouterr().out
    assert not CONTROLS & set(out), out
    assert "[1] Titel" in out and "(2013-11-02) d:0-" in out and "Text[2J" in out and "zweite Zeile" in out
    assert "[1] T (DW, 2013-11-02) https://x.example" in out and "„Zitat" in out and "! ohne Beleg" in out


def test_a_refusal_lists_the_related_passages_in_its_language(capsys: pytest.CaptureFixture[str]) -> None:
    show_sources(Answer("The articles don't say.", refused=True, related=(_hit("Kasan", title="BRICS"),)))
    out = capsys.readouterr().out
    assert TEXT["en"]["related"] in out and "BRICS" in out and "undated" in out
