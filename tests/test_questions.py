"""Every question file is well-formed and every evidence quote is really in its article."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.questions_io import load_docs, load_questions
from rag.errors import RagError
from rag.questions import read_questions
from rag.types import Document

from .conftest import ROOT, SEEDS

FILES = sorted((ROOT / "eval" / "questions").glob("*.jsonl"))
DEV = ROOT / "eval" / "questions" / "dev.jsonl"


@pytest.fixture(scope="module")
def docs():
    return load_docs(SEEDS)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_file_is_well_formed(path: Path, docs) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len({r["id"] for r in rows}) == len(rows), "ids must be unique"
    for r in rows:
        assert {"id", "question", "lang", "evidence", "answerable"} <= set(r), r["id"]
        assert r["lang"] in {"de", "en"} and r["question"].strip(), r["id"]
        assert bool(r["evidence"]) == r["answerable"], f"{r['id']}: evidence iff answerable"
    load_questions(path, docs)  # raises on any quote that is not in its cleaned article


def test_dev_set_covers_what_the_suite_promises(docs) -> None:
    qs = load_questions(DEV, docs)
    types = Counter(q.type for q in qs)
    assert len(qs) >= 80 and types["unanswerable"] >= 10 and types["multi"] >= 5
    assert {q.lang for q in qs} == {"de", "en"}
    assert {s.doc for q in qs for s in q.evidence} == set(docs)
    assert all(len({s.doc for s in q.evidence}) >= 2 for q in qs if q.type == "multi")


def test_quotes_are_found_across_line_breaks_and_a_missing_one_names_its_line(tmp_path: Path) -> None:
    doc = Document("d", "Die Minister trafen sich\nin Tokio. Sie beschlossen Manöver.")
    qfile = tmp_path / "q.jsonl"
    good = {"id": "a", "question": "Wo?", "lang": "de", "answerable": True}
    qfile.write_text(
        json.dumps({**good, "evidence": [{"doc": "d", "quote": "trafen sich in  Tokio."}]}) + "\n\n",
        encoding="utf-8",
    )
    (q,) = load_questions(qfile, {"d": doc})
    assert doc.text[q.evidence[0].start : q.evidence[0].end] == "trafen sich\nin Tokio."
    assert q.must_mention == () and q.answerable
    qfile.write_text(
        json.dumps(good) + "\n" + json.dumps({**good, "evidence": [{"doc": "d", "quote": "in Kasan"}]}) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"q\.jsonl:2: quote not found in cleaned d"):
        load_questions(qfile, {"d": doc})
    qfile.write_text(json.dumps({**good, "evidence": [{"doc": "x", "quote": "Tokio"}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="cleaned x"):  # an article that is not there
        load_questions(qfile, {"d": doc})


def test_the_question_reader_names_the_broken_line(tmp_path: Path) -> None:
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"id": "a", "question": "Wer?"}\n\n{"question": "Who?"}\n', encoding="utf-8")
    assert [r["question"] for r in read_questions(qfile)] == ["Wer?", "Who?"]
    for body, message in [
        ('{"id": "a", "question": "Wer?"}\n{"id": "b", "question": ', r"q\.jsonl:2 is not valid JSON"),
        ('{"id": "a", "question": 3}\n', r'q\.jsonl:1 has no "question" string'),
        ('["Wer?"]\n', r'q\.jsonl:1 has no "question" string'),
    ]:
        qfile.write_text(body, encoding="utf-8")
        with pytest.raises(RagError, match=message):
            read_questions(qfile)
    qfile.write_bytes("Grüße".encode("latin-1"))
    with pytest.raises(RagError, match="Cannot read the question file"):
        read_questions(qfile)
    with pytest.raises(RagError, match="Cannot read the question file"):
        read_questions(tmp_path / "missing.jsonl")
