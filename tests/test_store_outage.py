"""A running `rag-chat` on a real `chroma run` server that stalls (SIGSTOP), dies (SIGKILL) and comes back.

While the index cannot be reached the API answers 503 with a message in the question's language
and Retry-After, within the store timeout; the chat says the same; health says "degraded" with
the reason; once Chroma answers again, so does the assistant, without a restart.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from rag.config import Settings
from rag.pipeline import Assistant
from tests.loopback import free_port, start_chroma
from tests.test_api import call
from tests.ui_server import ui_server

pytestmark = pytest.mark.slow
TIMEOUT = 2  # RAG_STORE_TIMEOUT for the server under test
DE = {"question": "Wo findet der BRICS-Gipfel statt?"}
EN = {"question": "Where will the BRICS summit take place?"}


def timed(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any, Any, float]:
    t0 = time.monotonic()
    status, answer, headers = call(url, body)
    return status, answer, headers, time.monotonic() - t0


def assert_index_down(base: str) -> None:
    """503 in the question's language with Retry-After, within the timeout; health degraded."""
    status, body, headers, took = timed(base + "/api/ask", DE)
    assert status == 503 and "nicht erreichbar" in body["error"], body
    assert int(headers["Retry-After"]) > 0 and took < 3 * TIMEOUT + 5
    status, body, headers, _ = timed(base + "/api/search", EN)
    assert status == 503 and "cannot be reached" in body["error"] and headers["Retry-After"], body
    status, body, _, _ = timed(base + "/api/health")
    assert body["status"] == "degraded" and "Chroma server" in body["reason"], body
    chat = Client(base + "/", verbose=False).predict(DE["question"], [], [], "extractive", api_name="/ask")
    assert "nicht erreichbar" in json.dumps(chat, ensure_ascii=False) and "Errno" not in json.dumps(chat)


def assert_serving(base: str) -> None:
    status, body, _, _ = timed(base + "/api/ask", DE)
    assert status == 200 and "Kasan" in body["answer"], body
    assert timed(base + "/api/health")[1]["status"] == "ok"


def test_chroma_stalled_killed_and_back(settings: Settings, embedder, tmp_path: Path) -> None:
    port, path = free_port(), tmp_path / "chroma"
    url = f"http://127.0.0.1:{port}"
    chroma = start_chroma(path, port)
    try:
        remote = dataclasses.replace(settings, chroma_url=url, data_dir=tmp_path / "data")
        Assistant(remote, embedder=embedder).index(progress=False)
        with ui_server(
            tmp_path / "data", tmp_path / "server.log", RAG_CHROMA_URL=url, RAG_STORE_TIMEOUT=str(TIMEOUT)
        ) as base:
            assert_serving(base)
            chroma.send_signal(signal.SIGSTOP)
            _, body, _, _ = timed(base + "/api/health")
            assert f"within {TIMEOUT} s" in body["reason"], body
            assert_index_down(base)
            chroma.send_signal(signal.SIGCONT)
            assert_serving(base)
            chroma.kill()
            chroma.wait()
            assert_index_down(base)
            chroma = start_chroma(path, port)
            assert_serving(base)
    finally:
        chroma.send_signal(signal.SIGCONT)
        chroma.kill()
        chroma.wait()
