"""An optional API key: with `RAG_API_KEY` set, /api/* and /v1/* want `Authorization: Bearer KEY`.

`/api/health` stays open for liveness probes and the widget's origin check. The browser chat is no
API route: it stays open (put the server behind a proxy to close it too).
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware

from ui.openai_api import V1, error_response

OPEN = frozenset({"/api/health"})
MESSAGE = "Missing or wrong API key."
HINT = "Send the key set in RAG_API_KEY as `Authorization: Bearer KEY`."


def guarded(path: str) -> bool:
    """Whether `path` is an API route that needs the key (doubled and trailing slashes included)."""
    p = re.sub("/+", "/", path)
    return p.startswith(("/api/", "/v1/")) and p.rstrip("/") not in OPEN


def bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def protect(app: FastAPI, key: str, also: str = "") -> None:
    """Require `key` (or the admin token `also`) on the API routes; no key, no check.

    Add it before the CORS middleware, so it runs inside it and browsers can read a 401.
    """
    if not key:
        return
    accepted = [k.encode() for k in (key, also) if k]

    async def require_key(request: Request, call_next: Any) -> Any:
        path = request.scope["path"]
        given = bearer(request).encode()
        if not guarded(path) or any(hmac.compare_digest(given, k) for k in accepted):
            return await call_next(request)
        challenge = {"WWW-Authenticate": "Bearer"}
        if re.sub("/+", "/", path).startswith(V1):
            return error_response(401, f"{MESSAGE} {HINT}", "invalid_api_key", challenge)
        return JSONResponse({"error": MESSAGE, "hint": HINT}, status_code=401, headers=challenge)

    app.add_middleware(BaseHTTPMiddleware, dispatch=require_key)
