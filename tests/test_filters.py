"""Metadata filters: the rules on hand-made cases, then `rag search/ask` and /api/search, /api/ask on the seeds."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from rag.config import Settings
from rag.errors import RagError
from rag.filters import Filter
from rag.pipeline import Assistant

from .test_cli import rag
from .ui_server import ui_server

DW = {"000_69094add58ac3a80", "003_89ad17b9ee268824"}  # the two seed articles the DW published


def test_filter_rules() -> None:
    f = Filter.make("dw", "01.01.2020", None)
    assert f.since == "2020-01-01" and f.matches({"outlet": "DW", "date": "2025-04-10"})
    assert not f.matches({"outlet": "DW", "date": "2013-11-02"})
    assert not f.matches({"outlet": "DW", "date": ""})  # undated articles never match a date range
    assert not f.matches({"outlet": "tagesschau", "date": "2025-04-10"})
    assert not Filter.make() and Filter.make().matches({})
    with pytest.raises(RagError, match="not a date"):
        Filter.make(since="2020-13-01")
    with pytest.raises(RagError, match="after"):
        Filter.make(since="2021-01-01", until="2020-01-01")


@pytest.mark.slow
def test_filters_narrow_dense_and_lexical(assistant: Assistant) -> None:
    for method in ("dense", "lexical", "hybrid"):
        hits = assistant.search("Manöver", k=20, method=method, only=Filter.make(outlet="DW"))
        assert hits and {h.chunk.doc_id for h in hits} <= DW
    recent = assistant.search("Japan", k=20, only=Filter.make(since="2020-01-01"))
    assert recent and all(h.chunk.meta["date"] >= "2020-01-01" for h in recent)
    assert assistant.search("Japan", only=Filter.make(outlet="nirgends")) == []
    assert assistant.answer("Welche Länder hielten Manöver ab?", only=Filter.make(outlet="nirgends")).refused


@pytest.mark.slow
def test_cli_filters(assistant: Assistant, settings: Settings) -> None:
    out = rag("search", "Manöver", "--outlet", "DW", "--until", "2014-12-31", "--json", settings=settings)
    assert out.returncode == 0, out.stderr
    assert {h["doc"] for h in json.loads(out.stdout)} == {"000_69094add58ac3a80"}
    out = rag("ask", "Welche Länder hielten Manöver ab?", "--outlet", "DW", "--json", settings=settings)
    assert {c["doc"] for c in json.loads(out.stdout)["citations"]} <= DW
    bad = rag("search", "Manöver", "--since", "gestern", settings=settings)
    assert bad.returncode == 2 and "not a date" in bad.stderr and "Traceback" not in bad.stderr


@pytest.fixture(scope="module")
def server(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with ui_server(assistant.settings.data_dir, tmp_path_factory.mktemp("filters") / "server.log") as url:
        yield url


@pytest.mark.slow
def test_api_filters(server: str) -> None:
    r = httpx.post(server + "/api/search", json={"question": "Japan", "outlet": "dw", "since": "2020-01-01"})
    assert r.status_code == 200 and {h["doc"] for h in r.json()["hits"]} == {"003_89ad17b9ee268824"}
    body = {"question": "Welche Länder hielten Manöver ab?", "outlet": "DW"}
    a = httpx.post(server + "/api/ask", json=body, timeout=60).json()
    assert {c["doc"] for c in a["citations"]} <= DW
    bad = httpx.post(server + "/api/search", json={"question": "Japan", "until": "31.02.2020"})
    assert bad.status_code == 400 and "not a date" in bad.json()["error"]
