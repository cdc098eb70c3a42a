"""The optional API key, on a small real FastAPI app in-process: which routes it guards and how it answers."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ui.auth import guarded, protect


@pytest.mark.parametrize(
    ("path", "needs_key"),
    [
        ("/api/ask", True),
        ("//api//search/", True),
        ("/v1/chat/completions", True),
        ("/api/health", False),
        ("/api/health/", False),
        ("/", False),
        ("/widget.js", False),
        ("/apix", False),
    ],
)
def test_guarded_routes(path: str, needs_key: bool) -> None:
    assert guarded(path) is needs_key


def _client(key: str, also: str = "") -> TestClient:
    app = FastAPI()
    protect(app, key, also)
    for path in ("/api/ask", "/api/health", "/v1/models", "/"):
        app.add_api_route(path, lambda: {"ok": True}, methods=["GET"])
    return TestClient(app)


def test_without_a_key_every_route_is_open() -> None:
    assert _client("").get("/api/ask").status_code == 200


def test_the_key_or_the_admin_token_opens_the_api_routes() -> None:
    client = _client("k3y", also="adm1n")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic k3y"}):
        r = client.get("/api/ask", headers=headers)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer" and "RAG_API_KEY" in r.json()["hint"]
    assert client.get("/api/ask", headers={"Authorization": "Bearer k3y"}).status_code == 200
    assert client.get("/api/ask", headers={"Authorization": "bearer adm1n"}).status_code == 200
    assert client.get("/api/health").status_code == 200 and client.get("/").status_code == 200
    v1 = client.get("/v1/models")
    assert v1.status_code == 401 and v1.json()["error"]["code"] == "invalid_api_key"  # OpenAI's error shape
