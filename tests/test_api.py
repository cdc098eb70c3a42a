"""The HTTP API next to the chat, over real HTTP: ask, search, health, errors, CORS, busy, load."""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.pipeline import Assistant

from .ui_server import ui_server

pytestmark = pytest.mark.slow
log = logging.getLogger(__name__)
ALLOWED = "http://127.0.0.1:5999"


@pytest.fixture(scope="module")
def gradio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's GRADIO_TEMP_DIR, where Gradio would keep uploaded files."""
    return tmp_path_factory.mktemp("gradio")


@pytest.fixture(scope="module")
def server(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory, gradio_dir: Path) -> Iterator[str]:
    log_file = tmp_path_factory.mktemp("ui") / "server.log"
    env = {"RAG_ALLOWED_ORIGINS": ALLOWED, "GRADIO_TEMP_DIR": str(gradio_dir)}
    with ui_server(assistant.settings.data_dir, log_file, **env) as url:
        yield url


def call(url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read() or b"null"), r.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), e.headers


def test_health_and_openapi(server: str) -> None:
    status, body, _ = call(server + "/api/health")
    assert status == 200 and body["status"] == "ok" and body["chunks"] > 0 and "extractive" in body["generators"]
    with urllib.request.urlopen(server + "/openapi.json") as r:
        paths = json.load(r)["paths"]
    assert {"/api/ask", "/api/search", "/api/health"} <= set(paths)


def test_ask_with_history_and_search(server: str) -> None:
    status, body, _ = call(server + "/api/ask", {"question": "Wo findet der BRICS-Gipfel statt?"})
    assert status == 200 and not body["refused"] and "Kasan" in body["answer"] and body["citations"]
    assert body["quoted"] == ""
    status, body, _ = call(server + "/api/ask", {"question": "Where does the BRICS summit take place?"})
    assert status == 200 and "Kasan" in body["answer"] and body["quoted"] == "Quoted from the German articles:"
    history = [{"question": "Worüber berieten die Minister Russlands und Japans in Tokio?", "answer": ""}]
    status, body, _ = call(server + "/api/ask", {"question": "Und was sagte Schoigu dazu?", "history": history})
    assert status == 200 and any("Schoigu" in c["quote"] for c in body["citations"])
    status, body, _ = call(server + "/api/search", {"question": "Senkaku", "k": 3})
    assert status == 200 and len(body["hits"]) == 3 and body["hits"][0]["doc"].startswith("002_")


@pytest.mark.parametrize(("question", "message"), [("   ", "empty"), ("x" * 100_000, "limit")])
def test_bad_questions_are_400_with_a_message(server: str, question: str, message: str) -> None:
    status, body, _ = call(server + "/api/ask", {"question": question})
    assert status == 400 and message in body["error"] and body["hint"]


@pytest.mark.parametrize(
    "body",
    [
        {"question": float("nan")},
        {"question": "Manöver", "k": float("nan")},
        {"question": "Manöver", "k": float("inf")},
    ],
)
def test_nan_and_infinity_are_400_with_a_message(server: str, body: dict[str, Any]) -> None:
    status, answer, _ = call(server + "/api/search", body)  # json.dumps writes NaN / Infinity
    assert status == 400 and "not valid" in answer["error"] and answer["hint"]


def test_cors_and_frame_ancestors_follow_the_allowed_origins(server: str) -> None:
    _, _, ok = call(server + "/api/health", headers={"Origin": ALLOWED})
    _, _, other = call(server + "/api/health", headers={"Origin": "http://127.0.0.1:6001"})
    assert ok["access-control-allow-origin"] == ALLOWED and other["access-control-allow-origin"] is None
    with urllib.request.urlopen(server + "/widget") as r:
        assert r.headers["content-security-policy"] == f"frame-ancestors 'self' {ALLOWED}"


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=../../pyproject.toml",
        "/file=/etc/passwd",
        "/static/../../../../etc/passwd",
        "/gradio_api/file=%2Fetc%2Fpasswd",
    ],
)
def test_no_files_outside_what_the_ui_needs(server: str, path: str) -> None:
    try:
        with urllib.request.urlopen(server + path) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        assert e.code in (400, 403, 404, 405)
        return
    assert b"root:" not in body and b"[project]" not in body


@pytest.mark.parametrize("origin", [None, "http://attacker.example"])
def test_uploads_are_refused_and_nothing_is_stored(server: str, gradio_dir: Path, origin: str | None) -> None:
    """Gradio's upload routes are closed: nothing is stored or downloadable; the API still answers."""
    import httpx

    marker = b"upload-marker-6f1c: this file must not be stored"
    headers = {"Origin": origin} if origin else {}
    with httpx.Client(base_url=server, headers=headers, timeout=60) as http:
        for path in ["/gradio_api/upload", "/gradio_api/upload/", "/gradio_api/upload?upload_id=abc123"]:
            r = http.post(path, files={"files": ("note.txt", marker, "text/plain")})
            stored = r.json() if r.status_code == 200 else []
            for name in stored:  # before the fix: the stored file's path, readable by anyone
                got = http.get(f"/gradio_api/file={name}")
                assert marker not in got.content, f"{path} stored {name} and serves it"
            assert r.status_code == 403 and "upload" in r.text.lower(), (path, r.status_code, r.text[:200])
        r = http.get("/gradio_api/upload_progress", params={"upload_id": "abc123"})
        assert r.status_code == 403 and "upload" in r.text.lower(), (r.status_code, r.text[:200])
        r = http.post("/api/ask", json={"question": "Wo findet der BRICS-Gipfel statt?"})
        assert r.status_code == 200 and "Kasan" in r.json()["answer"]
    assert not [f for f in gradio_dir.rglob("*") if f.is_file() and marker in f.read_bytes()]


def test_gradio_client_calls_the_chat(server: str) -> None:
    from gradio_client import Client

    client = Client(server + "/", verbose=False)
    result = client.predict("Wo findet der BRICS-Gipfel statt?", [], [], "extractive", api_name="/ask")
    assert "Kasan" in json.dumps(result, ensure_ascii=False)


def test_twenty_concurrent_clients_no_errors(server: str) -> None:
    """20 clients asking for 20 s: every request answered, p95 latency logged."""
    questions = ["Welche Länder hielten Manöver ab?", "Who is Rutte?", "Wer ist Beloussow?", "Was ist NSATU?"]
    deadline = time.monotonic() + 20
    latencies: list[float] = []

    def client(i: int) -> list[int]:
        codes = []
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            codes.append(call(server + "/api/ask", {"question": questions[i % len(questions)]})[0])
            latencies.append(time.perf_counter() - t0)
        return codes

    with cf.ThreadPoolExecutor(20) as pool:
        codes = [c for f in [pool.submit(client, i) for i in range(20)] for c in f.result()]
    p95 = statistics.quantiles(latencies, n=20)[-1]
    log.warning(
        "load: %d requests from 20 clients, p50 %.2f s, p95 %.2f s", len(codes), statistics.median(latencies), p95
    )
    assert codes and set(codes) == {200}


def test_full_queue_says_busy_instead_of_hanging(assistant: Assistant, tmp_path: Path) -> None:
    env = {"RAG_CONCURRENCY": "1", "RAG_MAX_QUEUE": "0"}
    with ui_server(assistant.settings.data_dir, tmp_path / "log", **env) as url, cf.ThreadPoolExecutor(8) as pool:
        t0 = time.monotonic()
        ask = lambda _: call(url + "/api/ask", {"question": "Welche Länder hielten Manöver ab?"})  # noqa: E731
        results = list(pool.map(ask, range(8)))
        took = time.monotonic() - t0
    busy = [b for s, b, _ in results if s == 503]
    assert busy and all("busy" in b["error"].lower() for b in busy) and took < 60
    assert any(s == 200 for s, _, _ in results)
