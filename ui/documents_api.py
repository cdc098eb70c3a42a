"""`/api/documents`: list, upload (multipart) and delete articles; writing needs `RAG_ADMIN_TOKEN`.

The token and the request's size are checked before the body is read, so a request without the
token or beyond `RAG_UPLOAD_MAX_FILES` × `RAG_UPLOAD_MAX_MB` never reaches the disk at all.
Messages follow `Accept-Language` (German without it), as in the chat.
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated, Any

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rag import documents
from rag.documents import Article, Outcome, Upload
from rag.pipeline import Assistant
from ui.auth import bearer
from ui.texts import DOCS, interface_lang, megabytes

ROUTE = "/api/documents"
FILES = Annotated[list[UploadFile], File(description="one or more article files")]
FORM_OVERHEAD = 64_000  # multipart boundaries and part headers of a full request


class ArticleOut(BaseModel):
    id: str = Field(description="article id: the file name without its extension")
    file: str = Field(description="file in the articles folder")
    title: str
    outlet: str
    date: str = Field(description="YYYY-MM-DD, or empty when unknown")
    chunks: int = Field(description="passages in the index")


class FileResult(BaseModel):
    name: str = Field(description="the uploaded file's name")
    id: str = Field(description="article id, when the name was acceptable")
    ok: bool
    chunks: int = 0
    code: str = Field(description='"" when indexed; else name, type, size, empty, exists, unreadable, duplicate, busy')
    message: str = Field(description="what happened, in the language of Accept-Language")


class UploadResult(BaseModel):
    files: list[FileResult]
    added: int
    rejected: int


class ErrorOut(BaseModel):
    error: str
    hint: str = ""


def lang(request: Request) -> str:
    return interface_lang(request.headers.get("accept-language"))


def message(out: Outcome, lang: str, lim: documents.Limits) -> str:
    params = {
        "name": out.name,
        "detail": out.detail,
        "chunks": out.chunks,
        "types": ", ".join(lim.types),
        "size": megabytes(lim.max_bytes, lang),
    }
    return DOCS[lang][out.code or "added"].format(**params)


def _article(a: Article) -> ArticleOut:
    return ArticleOut(id=a.doc_id, file=a.file, title=a.title, outlet=a.outlet, date=a.date, chunks=a.chunks)


def _error(status: int, text: str, hint: str = "", headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": text, "hint": hint}, status_code=status, headers=headers)


def mount(app: FastAPI, assistant: Assistant) -> None:
    """Add the routes and the check that guards them (token, request size) to `app`."""
    token = assistant.settings.admin_token
    lim = documents.limits(assistant)
    most = lim.max_files * lim.max_bytes + FORM_OVERHEAD

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        path = re.sub("/+", "/", request.url.path).rstrip("/")
        if request.method not in ("POST", "DELETE") or not (path == ROUTE or path.startswith(ROUTE + "/")):
            return await call_next(request)
        t = DOCS[lang(request)]
        if not token:
            return _error(403, t["no_token"], "Start the server with RAG_ADMIN_TOKEN set.")
        if not hmac.compare_digest(bearer(request).encode(), token.encode()):
            hint = "Send the token set in RAG_ADMIN_TOKEN as `Authorization: Bearer TOKEN`."
            return _error(401, t["bad_token"], hint, {"WWW-Authenticate": "Bearer"})
        if request.method == "POST":
            length = request.headers.get("content-length", "")
            if not length.isdigit():
                return _error(411, t["no_length"])
            if int(length) > most:
                size = megabytes(lim.max_bytes, lang(request))
                return _error(413, t["request_size"].format(count=lim.max_files, size=size))
        return await call_next(request)

    @app.get(ROUTE, summary="The indexed articles", response_model=list[ArticleOut])
    def list_documents() -> list[ArticleOut]:
        return [_article(a) for a in documents.list_articles(assistant)]

    @app.post(
        ROUTE,
        summary="Add articles (.txt, .md, .html, .pdf); needs the admin token",
        response_model=UploadResult,
        responses={
            400: {"model": UploadResult},
            401: {"model": ErrorOut},
            403: {"model": ErrorOut},
            413: {"model": ErrorOut},
        },
    )
    def upload(request: Request, files: FILES) -> Any:
        """Each file is stored in the articles folder and indexed, or rejected with a reason; an existing
        article is never overwritten (a file of the same name is rejected: rename it). 400 when none was added."""
        la = lang(request)
        if len(files) > lim.max_files:
            text = DOCS[la]["count"].format(n=len(files), count=lim.max_files)
            return _error(400, text, "Send fewer files per request, or raise RAG_UPLOAD_MAX_FILES.")
        uploads = [Upload(f.filename or "", _read(f, lim.max_bytes)) for f in files]
        outcomes = documents.add(assistant, uploads)
        result = UploadResult(
            files=[
                FileResult(name=o.name, id=o.doc_id, ok=o.ok, chunks=o.chunks, code=o.code, message=message(o, la, lim))
                for o in outcomes
            ],
            added=sum(o.ok for o in outcomes),
            rejected=sum(not o.ok for o in outcomes),
        )
        return JSONResponse(result.model_dump(), status_code=200 if result.added else 400)

    @app.delete(
        ROUTE + "/{doc_id}",
        summary="Delete an article: its file and its passages; needs the admin token",
        response_model=ArticleOut,
        responses={404: {"model": ErrorOut}, 401: {"model": ErrorOut}, 403: {"model": ErrorOut}},
    )
    def delete(doc_id: str, request: Request) -> Any:
        try:
            return _article(documents.remove(assistant, doc_id))
        except KeyError:
            return _error(404, DOCS[lang(request)]["unknown"].format(name=doc_id))


def _read(f: UploadFile, limit: int) -> bytes:
    """At most `limit` + 1 bytes: enough to tell a file over the limit, never more in memory."""
    return f.file.read(limit + 1)
