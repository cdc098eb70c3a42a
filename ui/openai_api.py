"""OpenAI-compatible chat completions (`/v1/chat/completions`, `/v1/models`) over the engine behind `/api/ask`.

The last user message is the question, the earlier user/assistant pairs its history. The reply is the
answer with its `[n]` markers and a readable source list; the structured citations ride along in
`citations`. Errors keep the JSON API's status codes, headers and messages, in OpenAI's error shape.
"""

from __future__ import annotations

import inspect
import json
import logging
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack
from http import HTTPStatus
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, FiniteFloat

from rag.errors import RagError
from rag.generate import Turn
from rag.lang import detect
from rag.pipeline import Assistant, check_question
from rag.types import Answer, Citation, Event, Hit
from ui.texts import TEXT

log = logging.getLogger(__name__)
MODEL = "rag-assistant"
CREATED = 1_700_000_000  # a fixed "created" for the one model: clients only show it
V1 = "/v1/"
# Where a reply's own source list starts; cut off when the reply comes back as history.
_SOURCES_BLOCK = re.compile(
    r"\n\n(?:" + "|".join(re.escape(TEXT[lang][k]) for lang in TEXT for k in ("sources", "related")) + ")"
)


class TextPart(BaseModel):
    type: str = "text"
    text: str = ""


class Message(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    """OpenAI's request; sampling parameters are accepted and ignored (the answers quote the articles)."""

    model: str = Field(default=MODEL, description=f"`{MODEL}` (see /v1/models)")
    messages: list[Message] = Field(
        min_length=1, description="the last user message is the question, earlier user/assistant pairs its history"
    )
    stream: bool = Field(default=False, description="server-sent events in OpenAI's chunk format, then [DONE]")
    stream_options: StreamOptions | None = None
    temperature: FiniteFloat | None = None
    top_p: FiniteFloat | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int = Field(default=1, ge=1, le=1, description="one answer per request")


class ReplyMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ReplyMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL
    choices: list[Choice]
    citations: list[Citation] = Field(description="the exact article spans behind the reply's [n] markers")
    refused: bool = Field(description="the articles do not answer the question (a normal reply, not an error)")


class ModelCard(BaseModel):
    id: str = MODEL
    object: Literal["model"] = "model"
    created: int = CREATED
    owned_by: str = "rag-assistant"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class OpenAIError(Exception):
    """A request this API refuses: `status`, OpenAI's error `code` and a message."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "bad request: no question, too long, malformed messages, NaN"},
    401: {"model": ErrorResponse, "description": "RAG_API_KEY is set and the bearer token is missing or wrong"},
    404: {"model": ErrorResponse, "description": "unknown model"},
    503: {"model": ErrorResponse, "description": "busy or the index is unreachable (with Retry-After)"},
}
STREAM_DOC = {
    "text/event-stream": {"schema": {"type": "string"}, "example": 'data: {"object": "chat.completion.chunk", …}'}
}


def error_response(status: int, message: str, code: str | None, headers: dict[str, str] | None = None) -> JSONResponse:
    """OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`."""
    kind = "server_error" if status >= 500 else "invalid_request_error"
    body = ErrorResponse(error=ErrorDetail(message=message, type=kind, code=code))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def conversation(messages: Sequence[Message]) -> tuple[str, list[Turn]]:
    """The question (the last message, a user's) and the earlier turns: each user message with the reply after it."""
    talk = [m for m in messages if m.role in ("user", "assistant")]
    if not talk or talk[-1].role != "user":
        raise OpenAIError(400, "The last message must be the user's question (role 'user').", "invalid_messages")
    turns: list[Turn] = []
    for m in talk[:-1]:
        if m.role == "user":
            turns.append(Turn(m.text()))
        elif turns:
            turns[-1] = Turn(turns[-1].question, _SOURCES_BLOCK.split(m.text(), maxsplit=1)[0])
    return talk[-1].text(), turns


def extras(answer: Answer, lang: str) -> str:
    """What follows the answer text in a reply: notice, unsupported claims, then the sources as a list."""
    t = TEXT[lang]
    parts = [f"_{answer.notice}_"] if answer.notice else []
    if answer.unsupported:
        parts.append(f"{t['unsupported']} " + "; ".join(answer.unsupported))
    if answer.refused and answer.related:
        heads = dict.fromkeys(_head(h) for h in answer.related)  # one line per article
        parts.append("\n".join([t["related"], *(f"- {h}" for h in heads)]))
    elif answer.citations:
        parts.append("\n".join([f"{t['sources']}:", *(_cited(c) for c in answer.citations)]))
    return "".join(f"\n\n{p}" for p in parts)


def _head(hit: Hit) -> str:
    a = hit.chunk.article
    return _title(a.title or hit.chunk.doc_id, a.where, a.url)


def _cited(c: Citation) -> str:
    quote = " ".join(c.quote.split())
    return f"- [{c.n}] {_title(c.title or c.doc, c.article.where, c.url)}\n  „{quote}“"


def _title(title: str, where: str, url: str) -> str:
    link = f" <{url}>" if url.startswith(("http://", "https://")) else ""
    return f"{title}{f' ({where})' if where else ''}{link}"


class Streamed:
    """The text sent so far, kept to the checked answer's shape: no leading space, trailing space held back."""

    def __init__(self) -> None:
        self.sent = ""
        self._held = ""

    def add(self, piece: str) -> str:
        text = self._held + piece
        if not self.sent:
            text = text.lstrip()
        body = text.rstrip()
        self._held = text[len(body) :]
        self.sent += body
        return body

    def rest(self, final: str) -> str:
        """What completes the sent text to `final`; after it, all of `final` when the citation check changed it."""
        if final.startswith(self.sent):
            return final[len(self.sent) :]
        return f"\n\n{final}" if self.sent else final


def _chunk(cid: str, created: int, delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
    body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL, "choices": [choice]}
    return f"data: {json.dumps(body | extra, ensure_ascii=False)}\n\n"


def sse(events: Iterator[Event], held: ExitStack, lang: str) -> Iterator[str]:
    """The answer as OpenAI chunks: role, text pieces as generated, the rest with the sources, then [DONE]."""
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    with held:  # the busy gate's slot, until the last chunk is out
        try:
            yield _chunk(cid, created, {"role": "assistant", "content": ""})
            streamed, answer = Streamed(), None
            for event in events:
                if event.kind == "delta" and (piece := streamed.add(event.text)):
                    yield _chunk(cid, created, {"content": piece})
                answer = event.answer or answer
            assert answer is not None
            yield _chunk(cid, created, {"content": streamed.rest(answer.text) + extras(answer, lang)})
            citations = [c.to_json() for c in answer.citations]
            yield _chunk(cid, created, {}, "stop", citations=citations, refused=answer.refused)
        except Exception as exc:  # headers are out: the error goes into the stream, where clients look for it
            log.exception("stream failed")
            message = exc.say(lang) if isinstance(exc, RagError) else "The answer failed; see the server log."
            yield f"data: {json.dumps({'error': ErrorDetail(message=message, type='server_error').model_dump()})}\n\n"
            return
    yield "data: [DONE]\n\n"


def relay(chunks: Iterator[str]) -> Iterator[str]:
    """`chunks` made in a thread of their own: the answer ends and gives its gate slot back even when
    the client hangs up (an abandoned generator would hold it until garbage collection)."""
    made: queue.SimpleQueue[str | None] = queue.SimpleQueue()

    def produce() -> None:
        try:
            for chunk in chunks:
                made.put(chunk)
        finally:
            made.put(None)

    threading.Thread(target=produce, name="openai-stream", daemon=True).start()
    return iter(made.get, None)


def mount(
    app: FastAPI,
    assistant: Assistant,
    gate: AbstractContextManager[None],
    guard: Callable[[str], AbstractContextManager[None]],
) -> None:
    """Add the /v1 routes; `gate` is the JSON API's busy gate, `guard` turns index outages into its 503s.

    Call it after the app's own error handlers are set: on /v1 routes they answer in OpenAI's shape.
    """
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

    @router.get("/models", summary="The one model: the assistant", response_model=ModelList)
    def models() -> ModelList:
        return ModelList(data=[ModelCard()])

    @router.get("/models/{model}", summary="One model", response_model=ModelCard, responses=ERRORS)
    def model(model: str) -> ModelCard:
        _known(model)
        return ModelCard()

    @router.post(
        "/chat/completions",
        summary="Answer the last user message with citations (OpenAI chat completions)",
        response_model=ChatCompletion,
        responses={**ERRORS, 200: {"content": STREAM_DOC, "description": "a completion, or chunks with stream"}},
    )
    def chat_completions(req: ChatRequest) -> Any:
        _known(req.model)
        question, history = conversation(req.messages)
        question = check_question(question, assistant.settings.max_question_chars)
        lang = detect(question)
        if req.stream:
            return stream(question, history, lang)
        with gate, guard(question):
            answer = assistant.answer(question, history)
        reply = ReplyMessage(content=answer.text + extras(answer, lang))
        return ChatCompletion(
            id=f"chatcmpl-{uuid.uuid4().hex}",
            created=int(time.time()),
            choices=[Choice(message=reply)],
            citations=list(answer.citations),
            refused=answer.refused,
        )

    def stream(question: str, history: Sequence[Turn], lang: str) -> StreamingResponse:
        with ExitStack() as stack:
            stack.enter_context(gate)
            stack.enter_context(guard(question))
            events = assistant.answer_stream(question, history)
            next(events)  # retrieval, while its errors can still be HTTP errors
            chunks = relay(sse(events, stack.pop_all(), lang))
        return StreamingResponse(
            chunks, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    app.include_router(router)
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _reshaped(handler)
    app.add_exception_handler(OpenAIError, _openai_error)


def _known(model: str) -> None:
    if model != MODEL:
        raise OpenAIError(404, f"The model {model!r} does not exist; this server has {MODEL!r}.", "model_not_found")


async def _openai_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OpenAIError)
    return error_response(exc.status, exc.message, exc.code)


def _reshaped(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The handler, answering in OpenAI's error shape on /v1 routes (same status, message and Retry-After)."""

    async def handle(request: Request, exc: Exception) -> Any:
        response = handler(request, exc)
        if inspect.isawaitable(response):
            response = await response
        if not request.scope["path"].startswith(V1) or response.status_code < 400:
            return response
        try:
            body = json.loads(getattr(response, "body", b"") or b"{}")
        except ValueError:
            body = {}
        return reshape(response.status_code, body, response.headers)

    return handle


def reshape(status: int, body: dict[str, Any], headers: Any) -> JSONResponse:
    """`{"error": message, "hint"}` (or FastAPI's `{"detail"}`) as OpenAI's error body."""
    message = body.get("error") or body.get("detail") or HTTPStatus(status).phrase
    hint = str(body.get("hint", ""))
    code = hint if hint in ("retry", "rebuild") else None
    if hint and code is None:
        message = f"{message} {hint}"
    keep = {k: v for k, v in headers.items() if k.lower() in ("retry-after", "www-authenticate")}
    return error_response(status, str(message), code, keep)
