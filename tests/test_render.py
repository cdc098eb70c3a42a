"""The chat's HTML: every piece of article or user text escaped once, markers linked, unsafe links dropped.

The browser tests (`tests/test_ui.py`) show the same in Chromium; these check the strings themselves.
"""

from __future__ import annotations

from rag.types import Answer, Chunk, Citation, Hit
from ui.render import answer_html, answer_message, articles_html, quoted_note, sources_html
from ui.texts import TEXT

EVIL = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
TEXT_DE = "Die Minister trafen sich in Tokio. Sie beschlossen Marinemanöver."


def _hit(text: str = TEXT_DE, start: int = 100, **meta: str) -> Hit:
    return Hit(Chunk(f"d:{start}", "d", start, start + len(text), text, meta), 1.0)


def test_answer_text_is_escaped_and_markers_link_to_their_source() -> None:
    out = answer_html(f"{EVIL} [1] und [12]")
    assert "<script>" not in out and "<img" not in out and "&lt;script&gt;" in out and "&amp;" in out
    assert '<a class="cite" href="#src-1">[1]</a>' in out and 'href="#src-12"' in out
    assert answer_html("[x] [1a]") == "[x] [1a]"  # only numbers are markers


def test_notice_and_unsupported_claims_are_escaped_in_the_bubble() -> None:
    out = answer_message(Answer("Antwort [1]", notice=EVIL, unsupported=(EVIL, "zwei")), "de", "de")
    assert "<script>" not in out and "<img" not in out
    assert TEXT["de"]["unsupported"] in out and out.count("&lt;script&gt;") == 2 and "; zwei" in out


def test_german_quotes_for_an_english_question_are_introduced_in_english() -> None:
    german = Answer("Die Minister trafen sich in Tokio und beschlossen gemeinsame Manöver. [1]")
    assert quoted_note(german, "en") == TEXT["en"]["quoted"]
    assert answer_message(german, "de", "en").startswith(f"<em>{TEXT['en']['quoted']}</em>")
    assert quoted_note(german, "de") == ""
    assert quoted_note(Answer("In den Artikeln steht dazu nichts.", refused=True), "en") == ""


def test_source_cards_escape_titles_and_text_and_mark_the_cited_span() -> None:
    hit = _hit(title=EVIL, outlet="<b>DW</b>", date="2013-11-02", url="https://example.org/a?x=1&y=2")
    quote = "Sie beschlossen Marinemanöver."
    cite = Citation(1, "d", 100 + TEXT_DE.index(quote), 100 + len(TEXT_DE), quote)
    out = sources_html([hit], [cite], "de")
    assert "<script>" not in out and "<b>DW</b>" not in out and "&lt;b&gt;DW&lt;/b&gt;" in out
    assert f"<mark>{quote}</mark>" in out and 'class="src cited" id="src-1"' in out
    assert 'href="https://example.org/a?x=1&amp;y=2"' in out and TEXT["de"]["sources"] in out


def test_a_citation_outside_the_passage_marks_nothing() -> None:
    cite = Citation(1, "d", 0, 20, "anderswo")
    assert "<mark>" not in sources_html([_hit()], [cite])


def test_only_web_links_are_shown() -> None:
    for url in ("javascript:alert(1)", "data:text/html,<script>", "//evil.example", ""):
        assert "<a " not in sources_html([_hit(title="T", url=url)])
    assert "<a " in sources_html([_hit(title="T", url="http://example.org")])


def test_empty_and_related_panels() -> None:
    assert sources_html([], lang="en") == f"<p>{TEXT['en']['no_sources']}</p>"
    assert TEXT["en"]["related"] in sources_html([_hit()], lang="en", related=True)


def test_article_list_is_newest_first_escaped_and_falls_back_to_the_id() -> None:
    chunks = [
        Chunk("a:0", "a", 0, 1, "x", {"title": "Alt", "date": "2013-11-02"}),
        Chunk("b:0", "b", 0, 1, "x", {"title": EVIL, "date": "2025-04-10"}),
        Chunk("b:1", "b", 1, 2, "y", {"title": EVIL, "date": "2025-04-10"}),
        Chunk("c:0", "c_ohne_titel", 0, 1, "x", {}),
    ]
    out = articles_html(chunks, "de")
    assert out.count("<li>") == 3 and "<script>" not in out
    assert out.index("&lt;script&gt;") < out.index("Alt") < out.index("c_ohne_titel")
