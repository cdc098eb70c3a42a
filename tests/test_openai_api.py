"""The OpenAI-compatible endpoint, through the real `openai` client against the real server process.

The server runs with RAG_API_KEY set, so every test also goes through the key check; the open
routes without a key are `tests/test_api.py`'s.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from rag.generate import Turn
from rag.pipeline import Assistant
from rag.types import Answer, Chunk, Hit
from ui.openai_api import Message, OpenAIError, Streamed, conversation, extras

from .ui_server import ui_server

slow = pytest.mark.slow
KEY = "test-key-5f0c"
ALLOWED = "http://127.0.0.1:5999"
MODEL = "rag-assistant"
BRICS = "Wo findet der BRICS-Gipfel statt?"


@pytest.fixture(scope="module")
def server(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_file = tmp_path_factory.mktemp("openai") / "server.log"
    with ui_server(assistant.settings.data_dir, log_file, RAG_API_KEY=KEY, RAG_ALLOWED_ORIGINS=ALLOWED) as url:
        yield url


@pytest.fixture(scope="module")
def client(server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server + "/v1", api_key=KEY, max_retries=0, timeout=120)


def ask(client: openai.OpenAI, *messages: dict[str, str]) -> Any:
    return client.chat.completions.create(model=MODEL, messages=list(messages))  # type: ignore[arg-type]


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


@slow
def test_models_lists_the_assistant(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("gpt-4o")
    assert err.value.code == "model_not_found"


@slow
def test_answer_carries_markers_sources_and_citations(client: openai.OpenAI) -> None:
    done = ask(client, {"role": "system", "content": "Antworte kurz."}, user(BRICS))
    text = done.choices[0].message.content
    citations = done.model_extra["citations"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", text.split("\n\nQuellen:")[0])}
    assert "Kasan" in text and markers and done.choices[0].finish_reason == "stop" and done.model == MODEL
    assert markers == {c["n"] for c in citations} and not done.model_extra["refused"]
    assert "\n\nQuellen:\n- [1] " in text and all(c["quote"] in " ".join(text.split()) for c in citations)
    assert all({"doc", "start", "end", "quote", "title", "url"} <= set(c) for c in citations)


@slow
def test_streaming_concatenates_to_the_same_answer(client: openai.OpenAI) -> None:
    whole = ask(client, user(BRICS))
    chunks = list(client.chat.completions.create(model=MODEL, messages=[user(BRICS)], stream=True))  # type: ignore[list-item]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == whole.choices[0].message.content and len(chunks) >= 4
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"] == whole.model_extra["citations"]
    assert len({c.id for c in chunks}) == 1


@slow
def test_follow_up_uses_the_history(client: openai.OpenAI) -> None:
    first_q = "Worüber berieten die Minister Russlands und Japans in Tokio?"
    first = ask(client, user(first_q))
    topic = {c["doc"] for c in first.model_extra["citations"]}
    reply = first.choices[0].message.content
    follow = ask(client, user(first_q), {"role": "assistant", "content": reply}, user("Und wann war das?"))
    cited = {c["doc"] for c in follow.model_extra["citations"]}
    assert topic and not follow.model_extra["refused"] and cited & topic


@slow
def test_a_refusal_is_an_answer(client: openai.OpenAI) -> None:
    done = ask(client, user("Wie hoch ist der Verteidigungshaushalt von Brasilien?"))
    assert done.model_extra["refused"] and done.model_extra["citations"] == []
    assert done.choices[0].message.content.startswith("In den Artikeln steht dazu nichts.")


@slow
@pytest.mark.parametrize(
    ("messages", "wanted"),
    [
        ([user("   ")], "empty"),
        ([user("x" * 100_000)], "limit"),
        ([user(BRICS), {"role": "assistant", "content": "Kasan."}], "last message"),
        ([], "messages"),
    ],
)
def test_bad_input_is_400_in_openai_shape(client: openai.OpenAI, messages: list[Any], wanted: str) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=MODEL, messages=messages)
    body = err.value.body
    assert isinstance(body, dict) and wanted in body["message"] and body["type"] == "invalid_request_error"


@slow
@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "rag-assistant", "messages": [{"role": "user", "content": "Kasan?"}], "temperature": NaN}',
        b'{"model": "rag-assistant", "messages": [{"role": "robot", "content": "Kasan?"}]}',
        b'{"model": "rag-assistant", "messages": "Kasan?"}',
        b'{"model": "rag-assistant", "messages": [{"role": "user", "content": NaN}]}',
        b"not json",
    ],
)
def test_malformed_requests_are_400_in_openai_shape(server: str, raw: bytes) -> None:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    r = httpx.post(server + "/v1/chat/completions", content=raw, headers=headers, timeout=60)
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert "not valid" in r.json()["error"]["message"]


@slow
def test_unknown_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o", messages=[user(BRICS)])  # type: ignore[list-item]
    assert err.value.code == "model_not_found" and MODEL in err.value.message


@slow
def test_the_api_key_guards_every_api_route(server: str) -> None:
    wrong = openai.OpenAI(base_url=server + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        wrong.models.list()
    assert err.value.status_code == 401 and err.value.code == "invalid_api_key"
    with httpx.Client(base_url=server, timeout=120) as http:
        for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}]:
            r = http.post("/api/ask", json={"question": BRICS}, headers=headers)
            assert r.status_code == 401 and r.json()["error"] and r.headers["www-authenticate"] == "Bearer"
        r = http.post("/api/ask", json={"question": BRICS}, headers={"Authorization": f"Bearer {KEY}"})
        assert r.status_code == 200 and "Kasan" in r.json()["answer"]
        assert http.post("/api/search", json={"question": "Kasan"}).status_code == 401
        assert http.get("/api/health").status_code == 200  # liveness stays open
        preflight = {"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
        preflight["Access-Control-Request-Headers"] = "authorization,content-type"
        r = http.options("/v1/chat/completions", headers=preflight)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ALLOWED


@slow
def test_openapi_documents_the_endpoint(server: str) -> None:
    paths = httpx.get(server + "/openapi.json").json()["paths"]
    post = paths["/v1/chat/completions"]["post"]
    assert "/v1/models" in paths and {"200", "400", "401", "503"} <= set(post["responses"])


@slow
def test_busy_is_503_with_retry_after_and_streams_give_their_slot_back(assistant: Assistant, tmp_path: Path) -> None:
    """One answer at a time and no queue: the requests that do not fit are told to come back; a
    stream holds its slot until it ends, also when the client leaves early."""
    import concurrent.futures as cf

    env = {"RAG_CONCURRENCY": "1", "RAG_MAX_QUEUE": "0"}
    body = {"model": MODEL, "messages": [user("Welche Länder hielten Manöver ab?")], "stream": True}
    with ui_server(assistant.settings.data_dir, tmp_path / "log", **env) as url:
        with cf.ThreadPoolExecutor(6) as pool:
            post = lambda _: httpx.post(url + "/v1/chat/completions", json=body, timeout=120)  # noqa: E731
            results = list(pool.map(post, range(6)))
        busy = [r for r in results if r.status_code == 503]
        assert busy and all(r.json()["error"]["code"] == "retry" and r.headers["retry-after"] for r in busy)
        assert any(r.status_code == 200 and r.text.rstrip().endswith("data: [DONE]") for r in results)
        with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=120) as r:
            assert next(r.iter_lines()).startswith("data: ")  # then hang up
        time.sleep(1)
        again = httpx.post(url + "/v1/chat/completions", json={**body, "stream": False}, timeout=120)
        assert again.status_code == 200 and not again.json()["refused"]


@slow
def test_the_readme_example_runs(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### OpenAI-compatible endpoint", 1)[1]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    code = code.replace("http://127.0.0.1:7860/v1", server + "/v1").replace('api_key="KEY"', f'api_key="{KEY}"')
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "Kasan" in out and "Quellen:\n- [1] " in out and "'quote'" in out


def test_conversation_pairs_turns_and_drops_the_source_list() -> None:
    reply = "Kasan. [1]\n\nQuellen:\n- [1] China und Russland …"
    msgs = [
        Message(role="assistant", content="Hallo!"),
        Message(role="system", content="Antworte kurz."),
        Message(role="user", content=[{"type": "text", "text": "Wo ist der Gipfel?"}, {"type": "image_url"}]),
        Message(role="assistant", content=reply),
        Message(role="user", content="Und wann war das?"),
    ]
    assert conversation(msgs) == ("Und wann war das?", [Turn("Wo ist der Gipfel?", "Kasan. [1]")])
    with pytest.raises(OpenAIError) as err:
        conversation(msgs[:4])
    assert err.value.status == 400


def test_streamed_text_ends_as_the_checked_answer() -> None:
    s = Streamed()
    sent = "".join(s.add(p) for p in ["  Kasan liegt", " in Russland. [1] ", "\n"])
    assert sent == "Kasan liegt in Russland. [1]" and sent + s.rest(sent) == sent
    assert s.rest("Kasan liegt in Russland. [1] Mehr. [2]") == " Mehr. [2]"
    assert s.rest("In den Artikeln steht dazu nichts.") == "\n\nIn den Artikeln steht dazu nichts."


def test_a_refusal_lists_each_related_article_once() -> None:
    meta = {"title": "Engere Zusammenarbeit", "outlet": "DW", "date": "2013-11-02", "url": "https://p.dw.com/p/1"}
    hits = tuple(Hit(Chunk(f"c{i}", "000_a", 0, 5, "text", meta), 0.8) for i in range(2))
    text = extras(Answer("In den Artikeln steht dazu nichts.", refused=True, related=hits), "de")
    assert text == "\n\nVielleicht verwandt:\n- Engere Zusammenarbeit (DW, 2013-11-02) <https://p.dw.com/p/1>"
