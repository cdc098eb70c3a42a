"""Helpers for the real servers the tests start on loopback (Chroma, llama.cpp, the UI)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMA = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"


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


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    """A real `chroma run` server on loopback, serving once this returns; the caller stops it."""
    proc = subprocess.Popen(
        [CHROMA, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_serving(proc, f"http://127.0.0.1:{port}/api/v2/heartbeat", "chroma run", timeout=60)
    return proc
