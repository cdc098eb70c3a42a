"""Start the real server (`python -m ui`) and static host pages on loopback for the UI tests."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .loopback import free_port, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
CHROMIUM_ARGS += ["--disable-sync"]


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium under Playwright, never a browser a tool downloads; closed on exit.

    Playwright is imported here, not at module level, so the fast tier can import this module.
    """
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


ARTIFACTS = ROOT / "tests" / "artifacts"


@contextmanager
def ui_server(data_dir: Path, log: Path, **env: str) -> Iterator[str]:
    """`python -m ui --no-index` on a free port over an existing index; yields its base URL."""
    port = free_port()
    environ = {**os.environ, "RAG_DATA_DIR": str(data_dir), "RAG_PORT": str(port), **env}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ui", "--no-index"], cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, base + "/api/health", "ui server", log)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


@contextmanager
def static_site(folder: Path, port: int | None = None) -> Iterator[str]:
    """Serve `folder` over HTTP on loopback (a site owner's page on another origin)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port or 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
