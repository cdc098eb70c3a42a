"""Cleaning, metadata and bad files, on the real seed articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import RagError
from rag.ingest import clean, discover, load_document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def doc(stem_prefix: str):
    return load_document(next(SEEDS.glob(f"{stem_prefix}_*.txt")))


@pytest.mark.parametrize(
    "junk",
    [
        "Zum Inhalt springen",
        "Zur Hauptnavigation springen",
        "Anzeige",
        "Das könnte Sie auch interessieren",
        "Noch keine Kommentare",
        "Mehr zum Thema:",
        "Bild: Getty Images",
        "Foto: NHAC NGUYEN",
        "Bildquelle: REUTERS",
        "DW-Porträt",
        "https://",
        "PolitikJapan",
    ],
)
def test_boilerplate_is_gone_from_every_seed(junk: str) -> None:
    for path in discover(SEEDS):
        assert junk not in load_document(path).text, (junk, path.name)


def test_article_text_is_kept_verbatim() -> None:
    raw = next(SEEDS.glob("000_*.txt")).read_text(encoding="utf-8")
    d = doc("000")
    for line in raw.splitlines():
        if len(line) > 120:  # every prose paragraph survives unchanged
            assert line.strip() in d.text


@pytest.mark.parametrize(
    ("prefix", "title", "outlet", "date", "url"),
    [
        ("000", "Engere Zusammenarbeit vereinbart", "DW", "2013-11-02", "https://p.dw.com/p/1AAZu"),
        (
            "001",
            "Japan und Südkorea wollen gemeinsam an der Verbesserung der Beziehungen arbeiten",
            "",
            "",
            "",
        ),
        ("002", "USA und Japan Zusammenrücken gegen Kim", "Inforadio", "2017-08-17", ""),
        (
            "003",
            "Japan und NATO streben nach mehr Zusammenarbeit",
            "DW",
            "2025-04-10",
            "https://p.dw.com/p/4swRJ",
        ),
        ("004", "China und Russland vereinbaren Stärkung ihrer militärischen Zusammenarbeit", "", "", ""),
    ],
)
def test_metadata(prefix: str, title: str, outlet: str, date: str, url: str) -> None:
    d = doc(prefix)
    assert (d.title, d.outlet, d.date, d.url) == (title, outlet, date, url)


def test_image_credit_removed_but_caption_kept() -> None:
    d = doc("003")
    assert "Manöver der japanischen, australischen, philippinischen und der US-Marine" in d.text
    assert "Armed Forces of the Philippines" not in d.text
    assert "ISSEI KATO" not in doc("000").text


def test_tail_widgets_dropped() -> None:
    assert doc("003").text.endswith('"Aber das ist ein Traum."')
    assert doc("004").text.endswith("(afp/red)")


def test_html_article(tmp_path: Path) -> None:
    page = tmp_path / "artikel.html"
    page.write_text(
        "<html><head><title>T</title><meta property='og:title' content='Gipfel in Tokio'>"
        "<meta property='og:site_name' content='Beispielzeitung'>"
        "<meta property='article:published_time' content='2024-05-01T10:00:00Z'>"
        "<meta property='og:url' content='https://example.org/a'></head><body>"
        "<nav>Zum Inhalt springen</nav><script>alert(1)</script>"
        "<p>Die Minister trafen sich in Tokio &amp; berieten lange über die Sicherheit der Region "
        "und vereinbarten weitere Gespräche im kommenden Jahr.</p><footer>Impressum</footer></body></html>",
        encoding="utf-8",
    )
    d = load_document(page)
    assert (d.title, d.outlet, d.date, d.url) == (
        "Gipfel in Tokio",
        "Beispielzeitung",
        "2024-05-01",
        "https://example.org/a",
    )
    assert "Tokio & berieten" in d.text
    assert "alert" not in d.text and "Impressum" not in d.text and "Zum Inhalt" not in d.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Grüße aus Köln".encode("latin-1"), "not valid UTF-8"),
        (b"\x00\x01\x02binary", "looks binary"),
        (b"", "no article text"),
        (b"Anzeige\n\nZum Inhalt springen\n", "no article text"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(RagError, match=message):
        load_document(f)


def test_missing_folder() -> None:
    with pytest.raises(RagError, match="does not exist"):
        discover(Path("/nonexistent/articles"))


def test_clean_is_idempotent_on_clean_text() -> None:
    d = doc("002")
    assert clean(d.text)[0] == d.text


PROSE = "Die Minister trafen sich in Tokio und berieten lange über die Sicherheit der Region und weitere Gespräche."


@pytest.mark.parametrize(
    ("footer", "outlet", "date"),
    [
        ("Über dieses Thema berichtete Inforadio am 17. August 2017 um 08:45 Uhr.", "Inforadio", "2017-08-17"),
        ("Über dieses Thema berichtete NDR Info am 3. Mai 2021.", "NDR Info", "2021-05-03"),
        ("Über dieses Thema berichtete die tagesschau um 20:00 Uhr.", "tagesschau", ""),
        ("Über dieses Thema berichtete Deutschlandfunk.", "Deutschlandfunk", ""),
        ("Über dieses Thema berichtete Inforadio am 31. Februar 2020.", "Inforadio", ""),  # no such day: no date
        ("", "", ""),
    ],
)
def test_broadcaster_footer_gives_outlet_and_date(footer: str, outlet: str, date: str) -> None:
    """Where the text names who reported and when, that is the metadata; where it does not, nothing."""
    text, meta = clean(f"Gipfel in Tokio\n\n{PROSE}\n\n{footer}\n")
    assert (meta.outlet, meta.date) == (outlet, date)
    assert text.endswith(PROSE)  # the footer is furniture, the article text is unchanged
