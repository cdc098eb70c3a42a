"""The chat and the widget in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from rag.pipeline import Assistant

from .loopback import free_port
from .ui_server import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, static_site, ui_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def host_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def server(assistant: Assistant, host_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server allows exactly one host page origin, so another origin can be shown to fail."""
    log = tmp_path_factory.mktemp("ui") / "server.log"
    with ui_server(assistant.settings.data_dir, log, RAG_ALLOWED_ORIGINS=f"http://127.0.0.1:{host_port}") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(locale="de-DE", viewport={"width": 1300, "height": 900})
    pg = ctx.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs  # type: ignore[attr-defined]
    yield pg
    ctx.close()


def ask(page: Page, question: str) -> None:
    page.fill("#question textarea", question)
    page.click("#ask")


def test_chat_answers_with_sources_from_several_articles(server: str, page: Page) -> None:
    page.goto(server + "/")
    page.wait_for_selector("#status", timeout=30_000)
    t0 = time.perf_counter()
    ask(page, "Welche Länder hielten Manöver ab?")
    page.wait_for_selector("#sources .src", timeout=30_000)
    first_source = time.perf_counter() - t0
    page.wait_for_selector("#sources .src.cited", timeout=30_000)
    full = time.perf_counter() - t0
    cited = page.locator("#sources .src.cited .src-head b").all_inner_texts()
    titles = {t.split("] ", 1)[1] for t in cited}
    assert len(titles) >= 2, cited
    assert page.locator("#chat a.cite").count() >= 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    print(f"question to first source {first_source:.2f} s, to full answer {full:.2f} s")


def test_clicking_a_citation_shows_the_highlighted_sentence(server: str, page: Page) -> None:
    page.goto(server + "/")
    ask(page, "Wo findet der BRICS-Gipfel statt?")
    link = page.locator("#chat a.cite").first
    link.wait_for(timeout=30_000)
    n = link.inner_text().strip("[]")
    link.click()
    mark = page.locator(f"#src-{n} mark")
    assert page.url.endswith(f"#src-{n}")
    assert mark.is_visible() and "Kasan" in mark.inner_text()
    assert mark.evaluate("m => { const r = m.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }")


def test_html_in_a_question_is_shown_as_text(server: str, page: Page) -> None:
    page.goto(server + "/")
    ask(page, XSS)
    page.wait_for_selector("#sources .src", timeout=30_000)
    page.wait_for_timeout(1000)
    assert XSS in page.inner_text("#chat")
    assert page.locator("#chat img[src=x]").count() == 0 and page.dialogs == []  # type: ignore[attr-defined]


def _host_page(folder: Path, server: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(
        f'<!doctype html><html><body><h1>Host</h1><script src="{server}/widget.js" data-lang="de" '
        'data-title="Fragen an die Artikel" data-position="bottom-right"></script></body></html>',
        encoding="utf-8",
    )
    return folder


def test_widget_on_an_allowed_page_answers_with_sources(
    server: str, page: Page, host_port: int, tmp_path: Path
) -> None:
    with static_site(_host_page(tmp_path / "site", server), host_port) as site:
        page.goto(site + "/index.html")
        page.click("#rag-widget-button")
        frame = page.frame_locator("#rag-widget-frame")
        frame.locator("#question").fill("Wo findet der BRICS-Gipfel statt?")
        frame.locator("#send").click()
        frame.locator(".answer").wait_for(timeout=30_000)
        assert "Kasan" in frame.locator(".answer").inner_text()
        assert "Kasan" in frame.locator(".src mark").first.inner_text()
        frame.locator("#question").fill(XSS)
        frame.locator("#send").click()
        frame.locator(".answer").nth(1).wait_for(timeout=30_000)
        assert XSS in frame.locator(".q").nth(1).inner_text() and page.dialogs == []  # type: ignore[attr-defined]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget.png"))


def test_widget_on_a_page_from_another_origin_is_blocked(server: str, page: Page, tmp_path: Path) -> None:
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    with static_site(_host_page(tmp_path / "other", server)) as site:  # a port that is not allowed
        page.goto(site + "/index.html")
        page.click("#rag-widget-button")
        page.wait_for_timeout(2000)
        frame = page.frame_locator("#rag-widget-frame")
        assert frame.locator("#question").count() == 0  # frame-ancestors kept the chat out
        assert any("frame-ancestors" in line for line in console), console
        status = page.evaluate(f"fetch('{server}/api/health').then(r => 'open', e => 'blocked')")
        assert status == "blocked"  # and CORS keeps the API out
