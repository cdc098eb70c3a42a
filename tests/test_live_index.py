"""A running `rag-chat` follows `rag index` runs of another process on the same index.

Ten clients ask without pause while a real `python -m rag index` process changes every article,
removes one and adds one: no request may fail, and the first request after the run ends must
already be answered from the new index. Over the embedded store (one data folder) and a real
`chroma run` server.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings
from rag.pipeline import Assistant
from tests.conftest import ROOT, SEEDS
from tests.loopback import free_port, start_chroma
from tests.test_api import call
from tests.test_crash import amend
from tests.ui_server import ARTIFACTS, ui_server

pytestmark = pytest.mark.slow
log = logging.getLogger(__name__)
CLIENTS = 10
QUESTIONS = [
    "Welche Länder hielten Manöver ab?",
    "Wo findet der BRICS-Gipfel statt?",
    "Wer vertrat Russland bei den 2+2-Beratungen in Tokio?",
    "Why are relations between Tokyo and Seoul strained?",
]
NEW_ARTICLE = "\n\n".join(
    [
        "Zwergflusspferd Knut zieht in den Tierpark Quedlinburg",
        "Quedlinburg, 3. März 2025",
        "Der Tierpark Quedlinburg hat ein neues Zwergflusspferd: Knut kam am Montag aus einem Zoo in den "
        "Niederlanden und lebt nun in einem eigens umgebauten Gehege am Ufer der Bode.",
        "Die Tierpflegerinnen berichten, dass sich das Zwergflusspferd schnell an die neue Umgebung gewöhnt "
        "habe und am liebsten Salat und Äpfel fresse, während die Besucher es vom neuen Steg aus beobachten.",
    ]
)


class Clients:
    """`n` threads asking and searching without pause; every failure is kept with its reason."""

    def __init__(self, url: str, n: int) -> None:
        self.url = url
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.done: list[float] = []  # finish time of each successful request
        self.failed: list[tuple[float, str]] = []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(n)]

    def __enter__(self) -> Clients:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=180)

    def _run(self, i: int) -> None:
        n = i
        while not self.stop.is_set():
            question = QUESTIONS[n % len(QUESTIONS)]
            path, body = ("/api/ask", {"question": question}) if n % 2 else ("/api/search", {"question": question})
            n += 1
            try:
                status, answer, _ = call(self.url + path, body)
                reason = "" if status == 200 else f"{path} {status}: {answer}"
            except Exception as exc:  # a dropped connection counts as a failure too
                reason = f"{path}: {type(exc).__name__}: {exc}"
            with self.lock:
                if reason:
                    self.failed.append((time.monotonic(), reason))
                else:
                    self.done.append(time.monotonic())


def change_seeds(seeds: Path) -> str:
    """Every article gets a new sentence, one is deleted, one is new; returns the deleted one's id."""
    for i, p in enumerate(sorted(seeds.glob("*.txt"))):
        amend(p, f"Nachtrag {i}: Die Redaktion hat diesen Artikel ergänzt.")
    gone = sorted(seeds.glob("001_*.txt"))[0]
    gone.unlink()
    (seeds / "999_zwergflusspferd.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    return gone.stem


def first_search(url: str) -> tuple[int, dict]:
    """The first request after the run: (status, body); a plain-text error page counts as a failure."""
    try:
        status, body, _ = call(url + "/api/search", {"question": "Zwergflusspferd im Tierpark Quedlinburg", "k": 10})
    except ValueError as exc:  # "Internal Server Error" is not JSON
        return 500, {"hits": [], "error": str(exc)}
    return status, body


@pytest.fixture(params=["embedded", "server"])
def chroma_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """ "" for the embedded store in the data folder, else the URL of a real `chroma run` server."""
    if request.param == "embedded":
        yield ""
        return
    port = free_port()
    proc = start_chroma(tmp_path / "chroma", port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def test_server_follows_a_live_reindex(settings: Settings, embedder, tmp_path: Path, chroma_url: str) -> None:
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(SEEDS, seeds)
    local = dataclasses.replace(settings, data_dir=data, seeds_dir=seeds, chroma_url=chroma_url)
    Assistant(local, embedder=embedder).index(progress=False)
    gone = change_seeds(seeds)
    env = {
        **os.environ,
        "RAG_DATA_DIR": str(data),
        "RAG_SEEDS_DIR": str(seeds),
        "RAG_CACHE_DIR": str(settings.cache_dir),
        "RAG_CHROMA_URL": chroma_url,
    }
    with (
        ui_server(
            data, tmp_path / "server.log", RAG_CACHE_DIR=str(settings.cache_dir), RAG_CHROMA_URL=chroma_url
        ) as url,
        Clients(url, CLIENTS) as clients,
    ):
        time.sleep(3)
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "rag", "index", "--json"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        finished = time.monotonic()
        status, body = first_search(url)
        answered = time.monotonic()
        time.sleep(3)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    during = sum(started <= t <= finished for t in clients.done)
    figures = {
        "store": "chroma run" if chroma_url else "embedded",
        "clients": CLIENTS,
        "index_seconds": round(finished - started, 1),
        "index_report": {k: len(v) for k, v in report.items() if isinstance(v, list)},
        "requests_ok": len(clients.done),
        "requests_ok_during_index": during,
        "requests_failed": len(clients.failed),
        "failures": [why for _, why in clients.failed[:5]],
        "next_request_status": status,
        "next_request_top_doc": body["hits"][0]["doc"] if status == 200 and body.get("hits") else None,
        "next_request_seconds": round(answered - finished, 2),
    }
    log.info("live re-index: %s", json.dumps(figures))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = f"live_reindex_{'server' if chroma_url else 'embedded'}.json"
    (ARTIFACTS / name).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    assert clients.failed == [], figures
    assert during > 0, figures  # the clients really asked while the index changed
    assert status == 200 and body["hits"][0]["doc"] == "999_zwergflusspferd", figures
    assert gone not in {h["doc"] for h in body["hits"]}
    assert report["added"] == ["999_zwergflusspferd"] and report["removed"] == [gone]
