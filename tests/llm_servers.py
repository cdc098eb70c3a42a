"""Loopback servers for the LLM tests: llama-cpp-python's real OpenAI-compatible server, and two
tiny broken ones (one that never answers, one that dies mid-stream) for the failure paths."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .loopback import free_port, wait_until_serving


@contextmanager
def llama_server(gguf: Path, log: Path) -> Iterator[str]:
    """`python -m llama_cpp.server` serving `gguf`; yields its /v1 base URL once /v1/models answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "local"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}/v1"
        wait_until_serving(proc, base + "/models", "llama_cpp.server", log)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def raw_server(reply: bytes | None) -> Iterator[str]:
    """Accepts connections; sends `reply` then closes (dies mid-stream), or with None never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conns.append(conn)
            conn.recv(65536)
            if reply is not None:
                conn.sendall(reply)
                conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        stop.set()
        t.join()
        for c in conns:
            c.close()
        sock.close()


_EVENT = b'data: {"choices": [{"delta": {"content": "Russland war durch Schoigu vertreten "}}]}\n\n'
# A 200 response whose chunked body stops after one event: the server died mid-answer.
PARTIAL_STREAM = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    + f"{len(_EVENT):x}\r\n".encode()
    + _EVENT
    + b"\r\n"
)


def sse_reply(*pieces: str) -> bytes:
    """A complete streamed chat-completions response carrying `pieces`, as a server that obeys anything."""
    events = b"".join(
        b"data: " + json.dumps({"choices": [{"delta": {"content": p}}]}).encode() + b"\n\n" for p in pieces
    )
    body = events + b"data: [DONE]\n\n"
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body
