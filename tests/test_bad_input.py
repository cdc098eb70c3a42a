"""Bad input gets a clear error and loses nothing: questions, files, folders, arbitrary text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rag.chunk import chunk_document
from rag.config import Settings
from rag.errors import RagError
from rag.ingest import clean
from rag.pipeline import Assistant
from rag.types import Document

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "question",
    [
        "Wer ist\x00 Schoigu?\x07\x1b[31m",  # control characters and an ANSI escape
        "Кто такой Шойгу? Schoigu 防衛大臣 who?",  # mixed scripts
        "\u202eSchoigu\u200b Lawrow",  # bidi override, zero-width space
    ],
)
def test_odd_questions_are_answered_not_crashed(assistant: Assistant, question: str) -> None:
    ans = assistant.answer(question)
    assert ans.text and (ans.refused or ans.citations)


def test_100_kb_question_is_refused_with_the_documented_limit(assistant: Assistant) -> None:
    with pytest.raises(RagError, match="limit is 2,000") as exc:
        assistant.answer("Manöver " * 12_800)
    assert "RAG_MAX_QUESTION_CHARS" in exc.value.hint


def test_duplicate_file_under_another_name_is_indexed_once(tmp_path: Path, settings: Settings, embedder) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    src = next((Path(__file__).parent.parent / "seeds").glob("004_*.txt"))
    shutil.copy(src, seeds / src.name)
    shutil.copy(src, seeds / "zz_copy.txt")
    a = Assistant(Settings.from_env(data_dir=tmp_path / "idx", seeds_dir=seeds), embedder=embedder)
    report = a.index(progress=False)
    assert report.added == [src.stem] and report.duplicates == {"zz_copy": src.stem}
    assert {h.chunk.doc_id for h in a.search("BRICS Kasan", k=10)} == {src.stem}


@pytest.mark.parametrize("problem", ["missing", "a file"])
def test_bad_seeds_folder_is_a_clear_error_and_keeps_the_index(
    tmp_path: Path, settings: Settings, embedder, problem: str
) -> None:
    a = Assistant(Settings.from_env(data_dir=tmp_path / "idx", seeds_dir=tmp_path / "s"), embedder=embedder)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "a.txt").write_text("Japan und Russland vereinbarten gemeinsame Marinemanöver. " * 5)
    a.index(progress=False)
    # Permissions cannot make a folder unreadable for root (CI); a file in its place can.
    folder = tmp_path / "nowhere" if problem == "missing" else tmp_path / "s" / "a.txt"
    with pytest.raises(RagError) as exc:
        a.index(folder, progress=False)
    assert str(folder) in exc.value.message
    assert a.search("Marinemanöver", k=1)[0].chunk.doc_id == "a"


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=3000))
def test_arbitrary_text_through_cleaner_chunker_and_search(assistant: Assistant, raw: str) -> None:
    text, _ = clean(raw)
    doc = Document("x", text)
    for c in chunk_document(doc, 300, 50):
        assert text[c.start : c.end] == c.text
    try:
        hits = assistant.search(raw[:2000], k=3)
    except RagError as exc:
        assert exc.message and exc.hint
    else:
        assert all(h.chunk.text for h in hits)


def test_index_from_an_older_version_asks_for_a_rebuild(tmp_path: Path, settings: Settings, embedder) -> None:
    import chromadb

    old = chromadb.PersistentClient(path=str(tmp_path))
    old.create_collection("articles", embedding_function=None, metadata={"embed_model": "x", "schema": 0})
    a = Assistant(Settings.from_env(data_dir=tmp_path), embedder=embedder)
    with pytest.raises(RagError, match="another version") as exc:
        a.search("Schoigu")
    assert "--rebuild" in exc.value.hint
    a.index(rebuild=True, progress=False)
    assert a.search("Schoigu", k=1)
