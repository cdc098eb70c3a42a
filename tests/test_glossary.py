"""English question terms in German (`rag.glossary`): Ding-format parsing, the look-up table, the
BM25 query of English questions, and Debian's real dictionary in a search over the seeds."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from rag import glossary
from rag.lexical import LexicalIndex
from rag.pipeline import Assistant

# Lines in Ding's format, written for these tests.
DING = """\
# Version :: test
Verteidigungshaushalt {m} [pol.] | Verteidigungshaushalte {pl} :: defence budget [Br.]; defense budget | defence budgets
Manöver {n}; Truppenübung {f} [mil.] | Manöver {pl}; Truppenübungen {pl} :: manoeuvre; maneuver | manoeuvres; maneuvers
jdm. etw. vorwerfen {vt} | vorwerfend :: to accuse sb. of sth. | accusing
Marine... {f} :: naval
britisch {adj} /brit./ :: British /Brit./
Reis {m} [bot.] :: rice
in Richtung (+Dat.} {prp} :: toward
eine Zeile ohne Trenner
zwei | Teile :: nur ein Teil
"""

TEXTS = [
    "Japan erhöht seinen Verteidigungshaushalt deutlich.",
    "Russland und China hielten gemeinsame Manöver ab.",
    "Rutte warf China vor, Russland zu unterstützen.",
    "Ein Treffen in Tokio.",
]


@pytest.fixture()
def ding(tmp_path: Path) -> Path:
    path = tmp_path / "de-en"
    path.write_text(DING, encoding="utf-8")
    return path


@pytest.fixture()
def small(ding: Path, tmp_path: Path) -> glossary.Glossary:
    g = glossary.load(str(ding), tmp_path / "cache")
    assert g is not None
    return g


def test_parse_pairs_corresponding_parts_and_drops_notes_and_placeholders(ding: Path) -> None:
    pairs = set(glossary.parse(ding.read_text(encoding="utf-8").splitlines()))
    assert ("defence budget", "Verteidigungshaushalt") in pairs
    assert ("defense budget", "Verteidigungshaushalt") in pairs
    assert ("defence budgets", "Verteidigungshaushalte") in pairs
    assert ("manoeuvres", "Truppenübungen") in pairs
    assert ("accuse", "vorwerfen") in pairs  # "to accuse sb. of sth."
    assert ("naval", "Marine") in pairs  # "Marine..." is a prefix in Ding
    assert not any(de == "Teile" or en.startswith("nur") for en, de in pairs)  # unequal parts
    assert not any("{" in de or "[" in en for en, de in pairs)
    assert ("british", "britisch") in pairs  # /brit./ abbreviations dropped
    assert not any(en == "toward" for en, de in pairs)  # "(+Dat.}" is no word


def test_translate_finds_phrases_inflections_and_skips_names(small: glossary.Glossary) -> None:
    assert small.translate("How large is Germany's defence budget?") == [["Verteidigungshaushalt"]]
    assert small.translate("Which naval manoeuvres were held?") == [["Marine"], ["Manöver", "Truppenübungen"]]
    assert small.translate("What did Rutte accuse China of?") == [["vorwerfen"]]
    assert small.translate("Who accused Naval?") == [["vorwerfen"]]  # inflected; a capitalised word is a name
    assert small.translate("Wer hielt Manöver ab?") == []
    # Capitalised words are names, spelled alike in German ("Rice" is no "Reis").
    assert small.translate("What did Rice say about British manoeuvres?") == [["Manöver", "Truppenübungen"]]
    assert len(small.translate("defence budget " * 400)) == 400  # more keys than one SQLite query takes


def test_english_question_finds_german_passages_through_translations(small: glossary.Glossary) -> None:
    idx = LexicalIndex(TEXTS)
    question = "How large is the defence budget?"
    assert idx.search(question, 4) == []  # no English word occurs in German text
    german = small.translate(question)
    assert [i for i, _ in idx.search(question, 4, translations=german)] == [0]
    assert idx.coverage(question) == 0.0
    assert idx.coverage(question, german) > 0.0
    accuse = "What did Rutte accuse China of?"
    assert [i for i, _ in idx.search(accuse, 4, translations=small.translate(accuse))][0] == 2


def test_table_is_built_once_and_rebuilt_when_the_dictionary_changes(ding: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert glossary.load(str(ding), cache) is not None
    tables = list((cache / "glossary").glob("*.sqlite"))
    assert len(tables) == 1
    ding.write_text(DING + "Gipfel {m} :: summit\n", encoding="utf-8")
    g = glossary.load(str(ding), cache)
    assert g is not None and g.lookup("summit", "nothing") == {"summit": ["Gipfel"]}
    assert len(list((cache / "glossary").glob("*.sqlite"))) == 2
    assert not list((cache / "glossary").glob("*.tmp"))


def test_missing_unreadable_or_switched_off_dictionary_gives_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="rag.glossary"):
        assert glossary.load(str(tmp_path / "missing"), tmp_path / "cache") is None
        assert glossary.load(str(tmp_path), tmp_path / "cache") is None  # a folder, not a file
    assert "unusable" in caplog.text
    assert glossary.load("off", tmp_path / "cache") is None
    assert glossary.source_path("OFF") is None


@pytest.mark.slow
def test_debian_dictionary_brings_english_questions_to_german_passages(assistant: Assistant) -> None:
    """The real `trans-de-en` (installed by .ci/run): BM25 alone finds the Ukraine passage for an
    English question whose topic words are all English, and does not without the dictionary."""
    assert glossary.DEBIAN.is_file(), "apt-get install trans-de-en (the English-German dictionary)"
    question = "Which weapons does Japan refuse to deliver to countries at war?"
    found = assistant.retriever.search(question, k=3, method="lexical")
    assert any("tödlichen Waffen" in h.chunk.text for h in found)
    plain = Assistant(dataclasses.replace(assistant.settings, glossary="off"))
    before = plain.retriever.search(question, k=3, method="lexical")
    assert not any("tödlichen Waffen" in h.chunk.text for h in before)
