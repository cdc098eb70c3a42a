"""The Artikel panel in real Chromium: upload, list, answer, delete, refusal; read-only without the token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from rag.pipeline import Assistant

from .test_documents import ARTICLE, QUESTION, TOKEN, make_index
from .ui_server import chromium, ui_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def open_panel(browser: Browser, url: str) -> Page:
    page = browser.new_context(locale="de-DE", viewport={"width": 1300, "height": 1000}).new_page()
    page.goto(url + "/")
    page.wait_for_selector(".articles li", timeout=30_000)
    page.click("#docs button, #docs .label-wrap")
    page.wait_for_selector(".docs-table", timeout=30_000)
    return page


def ask(page: Page, question: str, expect: str) -> str:
    """Ask, wait until the last message holds `expect`, and return that message's text."""
    page.fill("#question textarea", question)
    page.click("#ask")
    page.wait_for_function(
        "(e) => { const m = document.querySelectorAll('#chat .message-row');"
        " return m.length && m[m.length - 1].innerText.includes(e); }",
        arg=expect,
        timeout=60_000,
    )
    return page.locator("#chat .message-row").last.inner_text()


def test_upload_list_ask_delete(assistant: Assistant, browser: Browser, tmp_path: Path) -> None:
    s = make_index(assistant, tmp_path)
    article = tmp_path / "kap-arkona.md"
    article.write_text(ARTICLE)
    env = {"RAG_SEEDS_DIR": str(s.seeds_dir), "RAG_ADMIN_TOKEN": TOKEN}
    with ui_server(s.data_dir, tmp_path / "server.log", **env) as url:
        page = open_panel(browser, url)
        page.fill("#docs-token", TOKEN)
        page.set_input_files("#docs-files", str(article))
        t0 = time.perf_counter()
        page.click("#docs-upload")
        page.wait_for_selector("#docs-results li.ok", timeout=120_000)
        assert "aufgenommen" in page.inner_text("#docs-results")
        page.wait_for_selector(".docs-table tr[data-doc='kap-arkona']", timeout=30_000)
        row = page.inner_text(".docs-table tr[data-doc='kap-arkona']")
        assert "Leuchtturm Kap Arkona" in row and "Ostsee-Zeitung" in row and "2021-06-15" in row
        ask(page, QUESTION, "Kap Arkona")
        print(f"browser upload to answer: {time.perf_counter() - t0:.2f} s")
        assert page.locator("#chat .message-row").last.locator("a.cite").count() >= 1
        assert "Leuchtturm Kap Arkona" in page.inner_text("#sources")

        page.click(".docs-table tr[data-doc='kap-arkona'] .docs-del")
        page.wait_for_selector("#docs-results li.ok:has-text('gelöscht')", timeout=120_000)
        page.wait_for_selector(".docs-table tr[data-doc='kap-arkona']", state="detached", timeout=30_000)
        assert not (s.seeds_dir / "kap-arkona.md").exists()
        page.click("#clear")
        page.wait_for_timeout(500)
        ask(page, QUESTION, "In den Artikeln steht dazu nichts")

        # A wrong type gets its message in the panel, in the browser's language.
        bad = tmp_path / "bild.png"
        bad.write_bytes(b"\x89PNG")
        page.set_input_files("#docs-files", str(bad))
        page.click("#docs-upload")
        page.wait_for_selector("#docs-results li.bad", timeout=60_000)
        assert "Dateityp" in page.inner_text("#docs-results")
        page.context.close()  # open connections would hold up the server's shutdown


def test_read_only_panel(assistant: Assistant, browser: Browser, tmp_path: Path) -> None:
    s = make_index(assistant, tmp_path)
    with ui_server(s.data_dir, tmp_path / "server.log", RAG_SEEDS_DIR=str(s.seeds_dir)) as url:
        page = open_panel(browser, url)
        assert "RAG_ADMIN_TOKEN" in page.inner_text(".docs-controls")
        assert page.locator("#docs-files, #docs-upload, .docs-del").count() == 0
        assert page.locator(".docs-table tr[data-doc]").count() == 5
        page.context.close()
