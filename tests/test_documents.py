"""/api/documents against a real server process: token rules, limits, upload → answer → delete → refusal."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from rag.config import Settings
from rag.documents import name_problem
from rag.pipeline import Assistant

from .conftest import SEEDS
from .ui_server import ui_server

pytestmark = pytest.mark.slow
TOKEN = "s3cret-admin"
ARTICLE = """---
title: "Leuchtturm Kap Arkona wird saniert"
outlet: Ostsee-Zeitung
date: 2021-06-15
---
Der Leuchtturm am Kap Arkona auf Rügen wird saniert. Der Turm wurde 1827 nach Plänen von Karl Friedrich
Schinkel erbaut und ist damit einer der ältesten Leuchttürme an der deutschen Ostseeküste.

Die Sanierung des Schinkelturms kostet nach Angaben der Gemeinde Putgarten rund 1,2 Millionen Euro.
Die Arbeiten sollen im Herbst 2022 abgeschlossen sein; bis dahin bleibt die Aussichtsplattform gesperrt.
"""
QUESTION = "Wer entwarf den Leuchtturm am Kap Arkona?"


def make_index(assistant: Assistant, root: Path) -> Settings:
    """A private articles folder and index (the session's embedder), so uploads change nothing shared."""
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    s = replace(assistant.settings, data_dir=root / "data", seeds_dir=seeds)
    Assistant(s, embedder=assistant.embedder).index(progress=False)
    return s


@pytest.fixture(scope="module")
def admin(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    root = tmp_path_factory.mktemp("docs")
    s = make_index(assistant, root)
    env = {"RAG_SEEDS_DIR": str(s.seeds_dir), "RAG_ADMIN_TOKEN": TOKEN, "RAG_UPLOAD_MAX_MB": "0.05"}
    with ui_server(s.data_dir, root / "server.log", **env, RAG_UPLOAD_MAX_FILES="3") as url:
        yield url, s


def auth(token: str = TOKEN) -> dict[str, str]:
    """The admin token as a bearer header; no Authorization header at all for an empty token."""
    return {"Accept-Language": "de-DE"} | ({"Authorization": f"Bearer {token}"} if token else {})


def post(url: str, files: list[tuple[str, bytes]], token: str = TOKEN) -> httpx.Response:
    parts = [("files", (name, data)) for name, data in files]
    return httpx.post(url + "/api/documents", files=parts, headers=auth(token), timeout=120)


def test_upload_answer_delete_refuse(admin: tuple[str, Settings]) -> None:
    url, s = admin
    t0 = time.perf_counter()
    r = post(url, [("kap-arkona.md", ARTICLE.encode())])
    assert r.status_code == 200, r.text
    [f] = r.json()["files"]
    assert f["ok"] and f["id"] == "kap-arkona" and f["chunks"] >= 1 and "aufgenommen" in f["message"]
    assert (s.seeds_dir / "kap-arkona.md").read_text() == ARTICLE
    listed = {a["id"]: a for a in httpx.get(url + "/api/documents").json()}
    assert listed["kap-arkona"]["outlet"] == "Ostsee-Zeitung" and listed["kap-arkona"]["date"] == "2021-06-15"
    answer = httpx.post(url + "/api/ask", json={"question": QUESTION}, timeout=60).json()
    print(f"upload to answer: {time.perf_counter() - t0:.2f} s")
    assert not answer["refused"] and "Kap Arkona" in answer["answer"]
    assert {c["doc"] for c in answer["citations"]} == {"kap-arkona"}
    # The same name again is rejected, never written over; the same text under another name too.
    again = post(url, [("kap-arkona.md", b"anderer Text"), ("kopie.md", ARTICLE.encode())])
    assert again.status_code == 400
    codes = [f["code"] for f in again.json()["files"]]
    assert codes == ["exists", "duplicate"], again.text
    assert (s.seeds_dir / "kap-arkona.md").read_text() == ARTICLE and not (s.seeds_dir / "kopie.md").exists()

    d = httpx.delete(url + "/api/documents/kap-arkona", headers=auth(), timeout=120)
    assert d.status_code == 200 and d.json()["id"] == "kap-arkona"
    assert not (s.seeds_dir / "kap-arkona.md").exists()
    assert "kap-arkona" not in {a["id"] for a in httpx.get(url + "/api/documents").json()}
    assert httpx.post(url + "/api/ask", json={"question": QUESTION}, timeout=60).json()["refused"]
    assert httpx.delete(url + "/api/documents/kap-arkona", headers=auth(), timeout=30).status_code == 404


def test_token_rules(admin: tuple[str, Settings]) -> None:
    url, s = admin
    before = sorted(p.name for p in s.seeds_dir.iterdir())
    for token in ("", "wrong"):
        r = post(url, [("x.md", ARTICLE.encode())], token=token)
        assert r.status_code == 401 and "Admin-Token" in r.json()["error"]
        assert httpx.delete(url + "/api/documents/000_69094add58ac3a80", headers=auth(token)).status_code == 401
    assert sorted(p.name for p in s.seeds_dir.iterdir()) == before
    assert httpx.get(url + "/api/documents").status_code == 200  # reading needs no token


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("gross.txt", b"Wort " * 20_000, "size"),
        ("bild.png", b"\x89PNG....", "type"),
        ("../boese.txt", ARTICLE.encode(), "name"),
        ("..\\boese.txt", ARTICLE.encode(), "name"),
        (".versteckt.md", ARTICLE.encode(), "name"),
        ("leer.txt", b"   \n", "empty"),
        ("scan.pdf", b"%PDF-1.4 not really a pdf", "unreadable"),
    ],
)
def test_rejected_files(admin: tuple[str, Settings], name: str, data: bytes, code: str) -> None:
    url, s = admin
    r = post(url, [(name, data)])
    assert r.status_code == 400, r.text
    [f] = r.json()["files"]
    assert f["code"] == code and not f["ok"] and f["message"].startswith("„")
    assert not (s.seeds_dir.parent / "boese.txt").exists()
    assert sorted(p.name for p in s.seeds_dir.iterdir()) == sorted(p.name for p in SEEDS.iterdir())


def test_request_limits(admin: tuple[str, Settings]) -> None:
    url, s = admin
    r = post(url, [(f"a{i}.txt", b"Text") for i in range(4)])
    assert r.status_code == 400 and "höchstens 3" in r.json()["error"]
    big = httpx.post(url + "/api/documents", files=[("files", ("x.txt", b"x" * 300_000))], headers=auth())
    assert big.status_code == 413  # refused from Content-Length, before the body was read
    # One bad file does not stop the good one next to it.
    mixed = post(url, [("gut.txt", ARTICLE.replace("Arkona", "Hiddensee").encode()), ("b.exe", b"MZ")])
    assert mixed.status_code == 200 and [f["ok"] for f in mixed.json()["files"]] == [True, False]
    assert httpx.delete(url + "/api/documents/gut", headers=auth(), timeout=120).status_code == 200


def test_read_only_without_token(assistant: Assistant, tmp_path: Path) -> None:
    s = make_index(assistant, tmp_path)
    with ui_server(s.data_dir, tmp_path / "server.log", RAG_SEEDS_DIR=str(s.seeds_dir)) as url:
        r = post(url, [("x.md", ARTICLE.encode())], token="anything")
        assert r.status_code == 403 and "RAG_ADMIN_TOKEN" in r.json()["error"]
        assert len(httpx.get(url + "/api/documents").json()) == 5
        spec = httpx.get(url + "/openapi.json").json()
        assert {"get", "post"} <= set(spec["paths"]["/api/documents"]) and "/api/documents/{doc_id}" in spec["paths"]


@pytest.mark.parametrize("name", ["../x.txt", "a/b.md", "C:\\x.txt", ".env.txt", "x\x00.txt", "", "a" * 200 + ".md"])
def test_unsafe_names(name: str) -> None:
    assert name_problem(name) == "name"


def test_safe_names() -> None:
    assert name_problem("Gipfel in Tokio (2013).pdf") == "" and name_problem("bild.PNG") == "type"
