"""Helpers for the real servers the tests start on loopback (Chroma, llama.cpp, the UI)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(
    proc: subprocess.Popen, url: str, what: str, log: Path | None = None, timeout: float = 120
) -> None:
    """Poll `url` until it answers; fail with the server's log tail if it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise RuntimeError(f"{what} did not start within {timeout:.0f} s: {tail}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
