"""One server for everything: the JSON API, the widget, and the Gradio chat mounted at `/`.

Embedding is limited to `RAG_ALLOWED_ORIGINS` twice over: CORS for API calls from other pages,
and CSP `frame-ancestors` for pages that would show the chat in an iframe.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from rag.errors import IndexDamaged, RagError, StoreUnavailable
from rag.filters import Filter
from rag.generate import Turn, available
from rag.lang import detect
from rag.pipeline import Assistant
from ui import auth, chat, documents_api, openai_api
from ui.render import quoted_note
from ui.texts import I18N, TEXT, interface_lang, question_problem

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
LOCAL = ["http://localhost:*", "http://127.0.0.1:*"]
RETRY_AFTER = 5  # seconds; a restarted Chroma server answers within a few
# Gradio's file upload routes: they store any file from anyone, and the chat takes no files.
UPLOAD_ROUTES = {"/gradio_api/upload", "/gradio_api/upload_progress"}
NO_UPLOADS = "Hochladen ist auf diesem Server abgeschaltet. / Uploads are disabled on this server."


class HistoryTurn(BaseModel):
    question: str
    answer: str = ""


class Only(BaseModel):
    """Which articles may answer (all when left out)."""

    outlet: str | None = Field(default=None, description="only this outlet, e.g. DW (case does not matter)")
    since: str | None = Field(default=None, description="only articles dated on or after this day, YYYY-MM-DD")
    until: str | None = Field(default=None, description="only articles dated on or before this day, YYYY-MM-DD")

    def only(self) -> Filter:
        return Filter.make(self.outlet, self.since, self.until)


class AskRequest(Only):
    question: str = Field(description="German or English question")
    history: list[HistoryTurn] = Field(default=[], description="earlier turns, oldest first (follow-ups)")
    generator: str | None = Field(default=None, description="extractive, openai or llamacpp")


class SearchRequest(Only):
    question: str
    k: int | None = Field(default=None, ge=1, le=50, description="passages to return (default RAG_TOP_K)")


class Busy(Exception):
    """More requests are waiting than the queue allows."""


class IndexDown(Exception):
    """The store did not answer a request asked in `lang`."""

    def __init__(self, lang: str) -> None:
        self.lang = lang


class IndexBroken(Exception):
    """The index met by a request asked in `lang` is damaged: retrying does not help, rebuilding does."""

    def __init__(self, lang: str, damage: IndexDamaged) -> None:
        self.lang = lang
        self.damage = damage


@contextmanager
def index_down_for(question: str) -> Iterator[None]:
    """Turn an unreachable or damaged store into `IndexDown` / `IndexBroken`, answered in the question's language."""
    try:
        yield
    except StoreUnavailable as exc:
        log.warning("index unreachable: %s", exc.reason)
        raise IndexDown(detect(question)) from exc
    except IndexDamaged as exc:
        log.error("index damaged: %s", exc)
        raise IndexBroken(detect(question), exc) from exc


class Gate:
    """At most `running` answers at once and `waiting` in line; beyond that, say busy at once."""

    def __init__(self, running: int, waiting: int) -> None:
        self._run = threading.Semaphore(running)
        self._slots = threading.Semaphore(running + waiting)

    def __enter__(self) -> None:
        if not self._slots.acquire(blocking=False):
            raise Busy
        self._run.acquire()

    def __exit__(self, *exc: object) -> None:
        self._run.release()
        self._slots.release()


def invalid(exc: RequestValidationError) -> str:
    """What is wrong with a request, without echoing its values: NaN or Infinity cannot be sent back as JSON."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg', 'invalid')}" for e in exc.errors()
    )
    return f"The request is not valid: {problems}."


def is_upload(path: str) -> bool:
    """Whether `path` reaches one of Gradio's upload routes (trailing or doubled slashes included)."""
    return re.sub("/+", "/", path).rstrip("/") in UPLOAD_ROUTES


def origins(configured: str) -> list[str]:
    """Allowed embedding origins: the configured list, else localhost on any port."""
    return [o.strip().rstrip("/") for o in configured.split(",") if o.strip()] or LOCAL


def _cors_regex(allowed: list[str]) -> str:
    return "|".join(re.escape(o).replace(r"\*", r"\d+") for o in allowed)


def build_app(assistant: Assistant) -> FastAPI:
    s = assistant.settings
    allowed = origins(s.allowed_origins)
    gate = Gate(s.concurrency, s.max_queue)
    app = FastAPI(title="rag-assistant API", description="Cited answers from German news articles.", version="1")
    auth.protect(app, s.api_key, also=s.admin_token)  # first added, so it runs inside CORS
    app.add_middleware(
        CORSMiddleware, allow_origin_regex=_cors_regex(allowed), allow_methods=["GET", "POST"], allow_headers=["*"]
    )
    csp = "frame-ancestors 'self' " + " ".join(allowed)

    @app.middleware("http")
    async def no_uploads(request: Request, call_next: Any) -> Any:
        """Refuse uploads before Gradio reads the body, so nothing is stored."""
        if is_upload(request.url.path):
            return JSONResponse({"error": NO_UPLOADS, "hint": "The chat takes no files."}, status_code=403)
        return await call_next(request)

    @app.middleware("http")
    async def frame_policy(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = csp
        return response

    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError) -> JSONResponse:
        return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": invalid(exc), "hint": "See /docs for the request format."}, status_code=400)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        msg = "Der Assistent ist ausgelastet, bitte gleich noch einmal versuchen. / Busy, please retry shortly."
        return JSONResponse({"error": msg, "hint": "retry"}, status_code=503, headers={"Retry-After": "2"})

    @app.exception_handler(IndexDown)
    async def index_down(request: Request, exc: IndexDown) -> JSONResponse:
        body = {"error": TEXT[exc.lang]["index_down"], "hint": "retry"}
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER)})

    @app.exception_handler(IndexBroken)
    async def index_broken(request: Request, exc: IndexBroken) -> JSONResponse:
        """503 without Retry-After: the index answers again once someone runs `rag index --rebuild`."""
        return JSONResponse({"error": exc.damage.say(exc.lang), "hint": "rebuild"}, status_code=503)

    def check(question: str, request: Request) -> None:
        """Say what is wrong with a question in the language the browser (or widget) asks for, if it asks."""
        if accept := request.headers.get("accept-language"):
            problem = question_problem(question, s.max_question_chars, interface_lang(accept))
            if problem:
                raise RagError(problem)

    @app.post("/api/ask", summary="Answer a question with citations")
    def ask(req: AskRequest, request: Request) -> dict[str, Any]:
        check(req.question, request)
        only = req.only()
        with gate, index_down_for(req.question):
            history = [Turn(t.question, t.answer) for t in req.history]
            answer = assistant.answer(req.question, history, req.generator, only)
        # The widget and other clients show it above the answer, as the chat does.
        return answer.to_json() | {"quoted": quoted_note(answer, detect(req.question))}

    @app.post("/api/search", summary="Best passages for a question")
    def search(req: SearchRequest, request: Request) -> dict[str, Any]:
        check(req.question, request)
        with gate, index_down_for(req.question):
            return {"hits": [h.to_json() for h in assistant.search(req.question, k=req.k, only=req.only())]}

    @app.get("/api/health", summary="Liveness, index size and usable generators")
    def health() -> dict[str, Any]:
        """Status "ok", or "degraded" with the reason while the index cannot be reached (the server lives on)."""
        try:
            chunks = len(assistant.retriever.chunks)
        except (StoreUnavailable, IndexDamaged) as exc:
            return {"status": "degraded", "reason": exc.reason, "generators": available(s)}
        return {"status": "ok", "chunks": chunks, "generators": available(s)}

    @app.get("/widget.js", include_in_schema=False)
    def widget_js() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript")

    @app.get("/widget", include_in_schema=False)
    def widget_page() -> FileResponse:
        return FileResponse(STATIC / "widget.html", media_type="text/html")

    openai_api.mount(app, assistant, gate, index_down_for)  # after the error handlers: it reshapes them
    documents_api.mount(app, assistant)

    demo = chat.build(assistant)
    demo.queue(default_concurrency_limit=s.concurrency, max_size=s.max_queue)
    return gr.mount_gradio_app(
        app, demo, "/", allowed_paths=[], i18n=I18N, theme=chat.THEME, css=chat.CSS, head=chat.HEAD, show_error=True
    )
