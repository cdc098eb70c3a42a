"""Citation checking: markers to sources that were never given are dropped, claims are checked."""

from __future__ import annotations

from rag.cite import check
from rag.types import Chunk, Hit

TEXT = (
    "An den Beratungen war Russland durch Sergej Schoigu und Sergej Lawrow vertreten. "
    "Die Minister beschlossen, Marinemanöver abzuhalten."
)


def _hit(text: str = TEXT, start: int = 100) -> Hit:
    return Hit(Chunk("d:1", "000_doc", start, start + len(text), text, {"title": "T", "date": "2013-11-02"}), 1.0)


def test_valid_marker_cites_the_exact_sentence() -> None:
    out = check("Russland war durch Schoigu und Lawrow vertreten [1].", [_hit()])
    (c,) = out.citations
    assert c.n == 1 and c.quote == TEXT[: TEXT.index(".") + 1]
    assert (c.start, c.end) == (100, 100 + len(c.quote)) and c.title == "T"
    assert out.unsupported == ()


def test_marker_beyond_the_sources_is_dropped_and_the_claim_flagged() -> None:
    out = check("Japan liefert Kampfjets an die Ukraine [7].", [_hit()])
    assert out.citations == () and "[7]" not in out.text
    assert out.unsupported == ("Japan liefert Kampfjets an die Ukraine",)


def test_claim_without_marker_and_unrelated_claim_are_flagged() -> None:
    out = check("Die Minister beschlossen Marinemanöver [1]. Der Mond ist aus grünem Käse gemacht [1].", [_hit()])
    assert [c.n for c in out.citations] == [1]
    assert out.unsupported == ("Der Mond ist aus grünem Käse gemacht",)
    tail = check("Die Minister beschlossen Marinemanöver [1]. Außerdem gab es ein großes Festessen.", [_hit()])
    assert tail.unsupported == ("Außerdem gab es ein großes Festessen.",)


def test_several_markers_in_one_bracket() -> None:
    out = check("Schoigu und Lawrow vertraten Russland [1, 2].", [_hit(), _hit(start=900)])
    assert [c.n for c in out.citations] == [1, 2] and out.text.endswith("[1] [2].")
