"""The server's pure parts: the busy gate, the upload-route check, allowed origins and request errors.

Over real HTTP with a real server process they are tested in `tests/test_api.py` (slow).
"""

from __future__ import annotations

import re
import threading

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from ui.server import LOCAL, Busy, Gate, SearchRequest, _cors_regex, invalid, is_upload, origins


def test_gate_lets_running_plus_waiting_in_and_says_busy_beyond() -> None:
    gate = Gate(running=1, waiting=1)
    inside, release, waited = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with gate:
            inside.set()
            release.wait(10)

    def wait_in_line() -> None:
        with gate:
            waited.set()

    first = threading.Thread(target=hold)
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=wait_in_line)
    second.start()
    second.join(0.2)
    assert second.is_alive() and not waited.is_set()  # in line behind the running one
    with pytest.raises(Busy), gate:  # the third is turned away at once
        pass
    release.set()
    first.join(10)
    second.join(10)
    assert waited.is_set()
    with gate:  # every slot came back
        pass


def test_gate_gives_the_slot_back_when_the_answer_fails() -> None:
    gate = Gate(running=1, waiting=0)
    with pytest.raises(ValueError), gate:
        raise ValueError("answer failed")
    with gate:
        pass


@pytest.mark.parametrize(
    ("path", "upload"),
    [
        ("/gradio_api/upload", True),
        ("/gradio_api/upload/", True),
        ("//gradio_api//upload_progress", True),
        ("/gradio_api/uploads", False),
        ("/api/ask", False),
    ],
)
def test_upload_routes(path: str, upload: bool) -> None:
    assert is_upload(path) is upload


def test_origins_default_to_localhost_and_ports_are_digits_only() -> None:
    assert origins("") == origins(" , ") == LOCAL
    assert origins("https://a.example/, http://b.example:8080") == ["https://a.example", "http://b.example:8080"]
    rx = re.compile(_cors_regex(LOCAL))
    assert rx.fullmatch("http://localhost:5999") and rx.fullmatch("http://127.0.0.1:80")
    assert not rx.fullmatch("http://localhost.evil.example:80") and not rx.fullmatch("http://127.0.0.1:80.evil")
    assert not re.fullmatch(_cors_regex(["https://a.example"]), "https://aXexample")  # dots are literal


def test_a_bad_request_is_described_without_echoing_its_values() -> None:
    try:
        SearchRequest.model_validate({"question": "x", "k": 0})
    except ValidationError as exc:
        message = invalid(RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]))
    assert message.startswith("The request is not valid: k: ") and "0" not in message.split("k: ", 1)[1]


def test_search_k_defaults_to_the_setting() -> None:
    """No `k` in the request: the retriever's RAG_TOP_K decides, not a number of the API's own."""
    assert SearchRequest(question="x").k is None
    assert SearchRequest(question="x", k=50).k == 50
