"""HTML (trafilatura) and PDF (pypdf) extraction, and metadata the user states, on real files.

The HTML pages in tests/fixtures/html are saved-page shaped news articles with the furniture real
pages carry (navigation, cookie banners, related links, comments, ads, footers); the PDFs are
written here with fpdf2: running headers, page numbers, hyphenated line ends, a scan, a password.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import matplotlib
import pytest
from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from PIL import Image

from rag.chunk import chunk_document
from rag.config import Settings
from rag.errors import RagError
from rag.ingest import discover, load_document
from rag.pipeline import Assistant

HTML = Path(__file__).resolve().parent / "fixtures" / "html"
# A Unicode TrueType font that ships with matplotlib, a dependency already: „quotes“ and umlauts.
FONT = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"


@pytest.mark.parametrize(
    ("page", "meta", "kept", "dropped"),
    [
        (
            "tagesschau_manoever.html",
            ("Japan und Australien beginnen größtes gemeinsames Seemanöver", "tagesschau.de", "2024-03-12"),
            ["Erstmals nehmen auch Einheiten der japanischen Küstenwache teil.", "im Jahr 2022 ein Abkommen"],
            [
                "Cookies",
                "Alle akzeptieren",
                "Startseite",
                "Mehr zum Thema",
                "Verteidigungshaushalt auf Rekord",
                "Prabowo",
                "Impressum",
                "Teilen",
                "Von Anna Beispiel",
            ],
        ),
        (
            "zeit_gipfel.html",
            ("Nato-Gipfel: Bündnis sagt Ukraine langfristige Unterstützung zu", "ZEIT ONLINE", "2024-07-10"),
            ["mindestens 40 Milliarden Euro bereitzustellen", "die ersten F-16-Kampfjets seien bereits"],
            [
                "Pur-Abo",
                "Tracking",
                "Anzeige",
                "Depot",
                "Lesen Sie auch",
                "Newsletter",
                "Leser123",
                "Vierzig Milliarden",
                "Das könnte Sie auch interessieren",
                "AGB",
            ],
        ),
        (
            "regional_hafen.html",
            ("Marineschiffe aus zwölf Ländern im Kieler Hafen", "Kieler Nachrichten", "2023-06-17"),
            ["Fregatten aus den Niederlanden, Polen und Norwegen", "Einlass ist jeweils von 10 bis 17 Uhr."],
            [
                "E-Paper",
                "Cookie",
                "Lesen Sie auch",
                "Kommentare",
                "Meistgelesen",
                "A7",
                "Traumurlaub",
                "Offsetdruck",
                "Von Peter Beispiel",
            ],
        ),
        (
            "dw_korea.html",
            ("Südkorea und Japan vereinbaren Austausch von Radardaten", "Deutsche Welle", "2023-12-19"),
            ["Raketenstarts Nordkoreas künftig in Echtzeit verfolgen", "Machthaber Kim Jong Un drohte"],
            [
                "Zum Inhalt springen",
                "Cookies",
                "Deutsch lernen",
                "Mehr zum Thema",
                "70 Minuten",
                "Barrierefreiheit",
                "Ahn Young-joon",
                "mak/kle",
            ],
        ),
    ],
)
def test_news_page_keeps_the_article_and_drops_the_furniture(
    page: str, meta: tuple[str, str, str], kept: list[str], dropped: list[str]
) -> None:
    d = load_document(HTML / page)
    assert (d.title, d.outlet, d.date) == meta
    for sentence in kept:
        assert sentence in d.text
    for junk in dropped:
        assert junk not in d.text, junk
    assert all(c.text == d.text[c.start : c.end] for c in chunk_document(d, 300, 50))


def test_page_without_an_article_is_reported(tmp_path: Path) -> None:
    page = tmp_path / "leer.html"
    page.write_text("<html><body><nav><a href='/'>Startseite</a></nav></body></html>", encoding="utf-8")
    with pytest.raises(RagError, match="no article text"):
        load_document(page)


# --- PDF -------------------------------------------------------------------------------------------

PAGE_1 = [
    "Neue Sicherheitspartnerschaft im Pazifik",
    "",
    "Berlin/Tokio. Der japanische Verteidi-",
    "gungsminister Minoru Kihara hat bei seinem Besuch in Berlin",
    "eine engere Zusammenarbeit mit der Bundeswehr vereinbart. Ge-",
    "plant sind gemeinsame Übungen der Luftwaffen beider Länder",
    "und ein regelmäßiger Austausch über Nord- und Südkorea sowie",
    "über die Lage in der Straße von Taiwan und die US-",
    "Marine im Südchinesischen Meer.",
    "",
    "Beide Seiten unterzeichneten außerdem ein Abkommen über die",
    "gegenseitige Versorgung der Streitkräfte mit Treibstoff und",
]
PAGE_2 = [
    "Munition. Es soll im kommenden Frühjahr in Kraft treten.",
    "",
    "Die Bundesregierung hatte zuletzt mehrfach Kriegsschiffe in den",
    "Indopazifik entsandt. Kritiker werfen ihr vor, die Kräfte der",
    "Marine zu überdehnen. Der Minister wies das zurück: „Unsere Si-",
    "cherheit hängt auch davon ab, dass die Seewege offen bleiben.“",
]


def write_pdf(
    path: Path,
    pages: list[list[str]],
    header: str = "",
    footer: str = "",
    title: str = "",
    unicode: bool = True,
    encrypt: dict | None = None,
) -> Path:
    """A PDF with one text line per entry ("" is a gap), a running header and a footer with {n}/{m}."""
    pdf = FPDF()
    family = "Helvetica"
    if unicode:
        pdf.add_font("DejaVu", fname=str(FONT))
        family = "DejaVu"
    if title:
        pdf.set_title(title)
    if encrypt:
        pdf.set_encryption(**encrypt)
    pdf.set_auto_page_break(False)
    for n, lines in enumerate(pages, 1):
        pdf.add_page()
        pdf.set_font(family, size=11)
        if header:
            pdf.cell(0, 6, header, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        for line in lines:
            if line:
                pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.ln(4)
        if footer:
            pdf.set_y(-20)
            pdf.cell(0, 6, footer.format(n=n, m=len(pages)), align="C")
    pdf.output(str(path))
    return path


def test_pdf_text_joins_hyphenated_words_and_drops_running_headers(tmp_path: Path) -> None:
    pdf = write_pdf(
        tmp_path / "artikel.pdf",
        [PAGE_1, PAGE_2],
        header="Frankfurter Beispielzeitung · Politik · 4. März 2024",
        footer="Seite {n} von {m}",
    )
    d = load_document(pdf)
    assert "Der japanische Verteidigungsminister Minoru Kihara" in d.text
    assert "Geplant sind gemeinsame Übungen der Luftwaffen beider Länder" in d.text
    assert "Austausch über Nord- und Südkorea" in d.text  # a hyphen before "und" stays
    assert "die US-Marine im Südchinesischen Meer." in d.text  # and so does one before a capital
    # a paragraph going on over the page break is one paragraph
    assert "mit Treibstoff und Munition. Es soll im kommenden Frühjahr in Kraft treten." in d.text
    assert "„Unsere Sicherheit hängt auch davon ab, dass die Seewege offen bleiben.“" in d.text
    assert "Beispielzeitung" not in d.text and "Seite 1" not in d.text and "Seite 2" not in d.text
    assert "-\n" not in d.text
    assert d.title == "Neue Sicherheitspartnerschaft im Pazifik"
    # lines of one paragraph are one line: sentences do not break at the layout's line ends
    assert "in Berlin eine engere Zusammenarbeit" in d.text
    assert "Taiwan und die US-Marine im Südchinesischen Meer.\n\nBeide Seiten" in d.text
    assert all(c.text == d.text[c.start : c.end] for c in chunk_document(d, 200, 40))


def test_pdf_with_a_standard_font_keeps_umlauts_and_its_title(tmp_path: Path) -> None:
    ascii_quotes = [line.replace("„", '"').replace("“", '"') for line in PAGE_2]
    pdf = write_pdf(tmp_path / "a.pdf", [PAGE_1, ascii_quotes], unicode=False, title="Pakt mit Tokio")
    d = load_document(pdf)
    assert d.title == "Pakt mit Tokio"
    assert "regelmäßiger Austausch über Nord- und Südkorea" in d.text
    assert "Straße" in d.text and "Übungen" in d.text


def test_single_page_pdf_loses_its_page_number_only(tmp_path: Path) -> None:
    d = load_document(write_pdf(tmp_path / "a.pdf", [PAGE_1 + PAGE_2], footer="{n}"))
    assert d.text.startswith("Neue Sicherheitspartnerschaft im Pazifik\n\nBerlin/Tokio.")
    assert d.text.endswith("dass die Seewege offen bleiben.“")


def test_scanned_pdf_says_to_run_ocr(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(Image.new("L", (400, 600), 230), x=10, y=10, w=150)
    pdf.output(str(tmp_path / "scan.pdf"))
    with pytest.raises(RagError, match="no text layer") as exc:
        load_document(tmp_path / "scan.pdf")
    assert "OCR" in exc.value.hint


def test_password_protected_pdf_says_how_to_unlock(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "a.pdf", [PAGE_1], encrypt={"owner_password": "chef", "user_password": "geheim"})
    with pytest.raises(RagError, match="password-protected") as exc:
        load_document(pdf)
    assert "qpdf --decrypt" in exc.value.hint


@pytest.mark.parametrize("method", [EncryptionMethod.RC4, EncryptionMethod.AES_128, EncryptionMethod.AES_256])
def test_pdf_locked_against_editing_only_is_read(tmp_path: Path, method: EncryptionMethod) -> None:
    pdf = write_pdf(tmp_path / "a.pdf", [PAGE_1], encrypt={"owner_password": "chef", "encryption_method": method})
    assert "Verteidigungsminister Minoru Kihara" in load_document(pdf).text


@pytest.mark.parametrize("cut", ["half", "junk", "empty"])
def test_damaged_pdf_is_reported(tmp_path: Path, cut: str) -> None:
    good = write_pdf(tmp_path / "good.pdf", [PAGE_1, PAGE_2]).read_bytes()
    bad = tmp_path / "bad.pdf"
    bad.write_bytes({"half": good[: len(good) // 2], "junk": b"<html>kein PDF</html>", "empty": b""}[cut])
    with pytest.raises(RagError, match="not a readable PDF") as exc:
        load_document(bad)
    assert "new PDF" in exc.value.hint


# --- Metadata the user states ----------------------------------------------------------------------

PROSE = (
    "Die Minister trafen sich in Tokio und berieten lange über die Sicherheit der Region "
    "und über weitere Gespräche im kommenden Jahr."
)


def test_front_matter_sets_metadata_and_is_not_indexed(tmp_path: Path) -> None:
    f = tmp_path / "notiz.md"
    f.write_text(
        '---\ntitle: "Gipfel: Tokio"\noutlet: Beispielzeitung\ndate: 2024-05-01\nurl: https://example.org/a\n---\n'
        f"Gipfel in Tokio\n\n{PROSE}\n",
        encoding="utf-8",
    )
    d = load_document(f)
    assert (d.title, d.outlet, d.date, d.url) == (
        "Gipfel: Tokio",
        "Beispielzeitung",
        "2024-05-01",
        "https://example.org/a",
    )
    assert d.text == f"Gipfel in Tokio\n\n{PROSE}"  # offsets count from the article, not the file
    assert all(c.text == d.text[c.start : c.end] for c in chunk_document(d, 60, 10))


def test_front_matter_overrides_what_the_text_says(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    footer = "Über dieses Thema berichtete Inforadio am 17. August 2017 um 08:45 Uhr."
    f.write_text(
        f"---\noutlet: rbb24\ndate: 18.08.2017\n---\nGipfel in Tokio\n\n{PROSE}\n\n{footer}\n", encoding="utf-8"
    )
    d = load_document(f)
    assert (d.title, d.outlet, d.date) == ("Gipfel in Tokio", "rbb24", "2017-08-18")


def test_sidecar_overrides_the_extractor_and_can_blank_a_field(tmp_path: Path) -> None:
    page = tmp_path / "dw.html"
    page.write_bytes((HTML / "dw_korea.html").read_bytes())
    before = load_document(page)
    (tmp_path / "dw.meta.json").write_text(
        json.dumps({"outlet": "DW", "url": None, "title": "Radar"}), encoding="utf-8"
    )
    after = load_document(page)
    assert (after.title, after.outlet, after.date, after.url) == ("Radar", "DW", "2023-12-19", "")
    assert after.text == before.text
    assert after.content_hash != before.content_hash  # editing a sidecar re-indexes the article
    assert discover(tmp_path) == [page]  # the sidecar is no article


def test_sidecar_beats_front_matter(tmp_path: Path) -> None:
    f = tmp_path / "a.md"
    f.write_text(f"---\ntitle: Aus dem Kopf\noutlet: Kopfzeitung\n---\n{PROSE}\n", encoding="utf-8")
    (tmp_path / "a.meta.json").write_text('{"title": "Aus der Datei"}', encoding="utf-8")
    d = load_document(f)
    assert (d.title, d.outlet) == ("Aus der Datei", "Kopfzeitung")


@pytest.mark.parametrize(
    ("head", "message"),
    [
        ("---\ntitle: Gipfel\n", "not closed"),
        ("---\ntitel: Gipfel\n---\n", "unknown key 'titel'"),
        ("---\nGipfel in Tokio\n---\n", "line 2: 'Gipfel in Tokio' is not a 'key: value' line"),
        ("---\ndate: 31.02.2024\n---\n", "date '31.02.2024' is not a date"),
        ("---\ndate: gestern\n---\n", "date 'gestern' is not a date"),
        ("---\nurl: www.example.org\n---\n", "is not a web address"),
    ],
)
def test_malformed_front_matter_is_reported(tmp_path: Path, head: str, message: str) -> None:
    f = tmp_path / "a.md"
    f.write_text(f"{head}{PROSE}\n", encoding="utf-8")
    with pytest.raises(RagError, match=message) as exc:
        load_document(f)
    assert str(f) in str(exc.value) and exc.value.hint


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        ('{"title": "Gipfel",}', "not valid JSON"),
        ('["Gipfel"]', "holds a list, not an object"),
        ('{"date": 2024}', "'date' is 2024, not text"),
        ('{"autor": "Muster"}', "unknown key 'autor'"),
        ('{"date": "2024-13-01"}', "is not a date"),
    ],
)
def test_malformed_sidecar_is_reported(tmp_path: Path, sidecar: str, message: str) -> None:
    f = tmp_path / "a.txt"
    f.write_text(PROSE, encoding="utf-8")
    (tmp_path / "a.meta.json").write_text(sidecar, encoding="utf-8")
    with pytest.raises(RagError, match=message) as exc:
        load_document(f)
    assert "a.meta.json" in str(exc.value) and exc.value.hint


def test_a_rule_further_down_is_no_front_matter(tmp_path: Path) -> None:
    f = tmp_path / "a.md"
    f.write_text(f"Gipfel in Tokio\n\n---\n\n{PROSE}\n", encoding="utf-8")
    assert PROSE in load_document(f).text


# --- End to end ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_html_and_pdf_are_indexed_and_found(settings: Settings, embedder, tmp_path: Path) -> None:
    """Real model, real Chroma: a sentence of each is found; a PDF that breaks later keeps its chunks."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "korea.html").write_bytes((HTML / "dw_korea.html").read_bytes())
    pdf = write_pdf(articles / "pakt.pdf", [PAGE_1, PAGE_2], header="Beispielzeitung · Politik", footer="Seite {n}")
    (articles / "pakt.meta.json").write_text('{"outlet": "Beispielzeitung", "date": "2024-03-04"}', encoding="utf-8")
    a = Assistant(dataclasses.replace(settings, data_dir=tmp_path / "data", seeds_dir=articles), embedder=embedder)
    report = a.index(progress=False)
    assert sorted(report.added) == ["korea", "pakt"] and not report.failed

    def found(question: str, doc: str, needle: str) -> dict:
        hits = a.search(question, k=3)
        hit = next((h for h in hits if h.chunk.doc_id == doc and needle in h.chunk.text), None)
        assert hit, [(h.chunk.doc_id, h.chunk.text[:60]) for h in hits]
        return hit.to_json()

    korea = found("Wie lange flog die nordkoreanische Rakete vom Typ Hwasong-18?", "korea", "73 Minuten")
    assert (korea["outlet"], korea["date"]) == ("Deutsche Welle", "2023-12-19")
    pakt = found("Welcher Verteidigungsminister besuchte Berlin?", "pakt", "Verteidigungsminister Minoru Kihara")
    assert (pakt["title"], pakt["outlet"], pakt["date"]) == (
        "Neue Sicherheitspartnerschaft im Pazifik",
        "Beispielzeitung",
        "2024-03-04",
    )
    text = load_document(pdf).text
    assert pakt["text"] == text[pakt["start"] : pakt["end"]]

    pdf.write_bytes(pdf.read_bytes()[:500])  # a broken download replaces the file
    again = a.index(progress=False)
    assert "not a readable PDF" in again.failed[str(pdf)] and not again.removed
    found("Welcher Verteidigungsminister besuchte Berlin?", "pakt", "Verteidigungsminister Minoru Kihara")
