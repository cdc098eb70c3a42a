"""Every question file is well-formed and every evidence quote is really in its article."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.questions_io import load_docs, load_questions

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
