"""The chat and the widget in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from rag.pipeline import Assistant

from .loopback import free_port
from .ui_server import ARTIFACTS, chromium, static_site, ui_server

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
    with chromium() as b:
        yield b


@contextmanager
def open_page(browser: Browser, locale: str = "de-DE", width: int = 1300, height: int = 900) -> Iterator[Page]:
    """A fresh page in its own context (browser language, viewport); alert dialogs are recorded and dismissed."""
    ctx = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    pg = ctx.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        ctx.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    with open_page(browser) as pg:
        yield pg


def ask(page: Page, question: str) -> None:
    page.fill("#question textarea", question)
    page.click("#ask")


def shot(page: Page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def test_chat_answers_with_sources_from_several_articles(server: str, page: Page, assistant: Assistant) -> None:
    page.goto(server + "/")
    page.wait_for_selector(".articles li", timeout=30_000)
    # Before the first question: what the assistant knows, and a status line without server paths.
    articles = page.inner_text(".articles")
    assert "Engere Zusammenarbeit vereinbart" in articles and "2013-11-02" in articles
    assert page.locator(".articles li").count() == 5
    assert page.inner_text("#status").startswith("Bereit: ") and str(assistant.settings.data_dir) not in page.content()
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
    shot(page, "chat.png", full_page=True)
    print(f"question to first source {first_source:.2f} s, to full answer {full:.2f} s")


def test_every_heading_and_glyph_uses_one_font(server: str, page: Page) -> None:
    """Gradio's bundled semi-bold web fonts hold a few glyphs only; headings and buttons must not mix fonts."""
    page.goto(server + "/")
    page.wait_for_selector(".articles li", timeout=30_000)
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    for selector in ["h2", "#ask", ".articles h3", ".articles b"]:
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        assert len(fonts) == 1, (selector, fonts)


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
    assert page.locator("#sources .src.hl").count() == 1 and page.locator(f"#src-{n}.hl").count() == 1
    # The next answer has sources of its own: nothing stays highlighted from the last one.
    ask(page, "Wer vertrat Russland bei den 2+2-Beratungen in Tokio?")
    page.locator("#chat a.cite").nth(1).wait_for(timeout=30_000)
    page.wait_for_selector("#sources .src.cited", timeout=30_000)
    assert page.locator("#sources .src.hl").count() == 0
    assert "#" not in page.url  # a reload does not jump to an old source either


@pytest.mark.parametrize(
    ("locale", "ready", "heading", "empty", "question", "quoted"),
    [
        ("de-DE", "Bereit: ", "Quellen", "Die Frage ist leer.", "Where will the BRICS summit take place?", True),
        ("en-US", "Ready: ", "Sources", "The question is empty.", "Wo findet der BRICS-Gipfel statt?", False),
    ],
)
def test_the_interface_speaks_the_browsers_language(
    server: str, browser: Browser, locale: str, ready: str, heading: str, empty: str, question: str, quoted: bool
) -> None:
    """Status, errors and headings in the browser's language; the answer in the question's."""
    with open_page(browser, locale) as page:
        page.goto(server + "/")
        page.wait_for_selector(".articles li", timeout=30_000)
        assert page.inner_text("#status").startswith(ready)
        page.click("#ask")
        page.wait_for_function(f"document.querySelector('#chat').innerText.includes({empty!r})", timeout=30_000)
        ask(page, question)
        page.wait_for_selector("#sources .src.cited", timeout=30_000)
        assert page.inner_text("#sources h3") == heading
        answer = page.locator("#chat .message-row").last.inner_text()
        assert "Kasan" in answer and ("Quoted from the German articles:" in answer) == quoted, answer
        shot(page, f"chat-{locale}.png")


def test_phone_shows_the_sources_before_the_picker(server: str, browser: Browser) -> None:
    with open_page(browser, width=390, height=844) as page:
        page.goto(server + "/")
        page.wait_for_selector(".articles li", timeout=30_000)
        ask(page, "Wo findet der BRICS-Gipfel statt?")
        page.wait_for_selector("#sources .src.cited", timeout=30_000)
        page.evaluate("window.scrollTo(0, 0)")
        top = "s => s.getBoundingClientRect().top"
        first, picker = page.locator("#src-1").evaluate(top), page.locator("#generator").evaluate(top)
        assert first < picker and first < 844, (first, picker)  # on the first screen, the picker below it
        shot(page, "chat-phone.png")


def test_html_in_a_question_is_shown_as_text(server: str, page: Page) -> None:
    page.goto(server + "/")
    ask(page, XSS)
    page.wait_for_selector("#sources .src", timeout=30_000)
    page.wait_for_timeout(1000)
    assert XSS in page.inner_text("#chat")
    assert page.locator("#chat img[src=x]").count() == 0 and page.dialogs == []  # type: ignore[attr-defined]


def _host_page(folder: Path, server: str, question: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(
        f'<!doctype html><html><body><h1>Host</h1><script src="{server}/widget.js" data-lang="de" '
        f'data-title="Fragen an die Artikel" data-position="bottom-right" data-question="{question}"></script>'
        "</body></html>",
        encoding="utf-8",
    )
    return folder


def wait_for_focus_in_panel(page: Page) -> None:
    """Until the panel's iframe has the page's focus and its question box has the panel's."""
    page.wait_for_function("document.activeElement && document.activeElement.id === 'rag-widget-frame'")
    panel = page.locator("#rag-widget-frame").element_handle().content_frame()
    assert panel is not None
    panel.wait_for_function("document.hasFocus() && document.activeElement.id === 'question'", timeout=5_000)


def test_widget_on_an_allowed_page_answers_with_sources(
    server: str, page: Page, host_port: int, tmp_path: Path
) -> None:
    question = "Wer vertrat Russland bei den 2+2-Beratungen in Tokio?"
    with static_site(_host_page(tmp_path / "site", server, question), host_port) as site:
        page.goto(site + "/index.html")
        bubble = page.locator("#rag-widget-button")
        bubble.click()
        assert bubble.get_attribute("aria-expanded") == "true"
        frame = page.frame_locator("#rag-widget-frame")
        # data-question is asked as the panel opens; focus is in the panel's question box.
        frame.locator(".answer").wait_for(timeout=30_000)
        assert frame.locator(".q").first.inner_text() == question
        assert "Schoigu" in frame.locator(".answer").inner_text()
        wait_for_focus_in_panel(page)
        # Sources link to their article; [n] jumps to its source and marks it.
        link = frame.locator(".src a[href^='https://p.dw.com/']").first
        assert link.get_attribute("target") == "_blank" and link.inner_text() == "Artikel öffnen"
        cite = frame.locator(".answer a.cite").first
        cite.click()
        assert frame.locator(".src.hl").count() == 1
        assert frame.locator(".src.hl").get_attribute("id") == cite.get_attribute("href").lstrip("#")
        frame.locator("#question").fill("Wo findet der BRICS-Gipfel statt?")
        frame.locator("#send").click()
        frame.locator(".answer").nth(1).wait_for(timeout=30_000)
        assert "Kasan" in frame.locator(".answer").nth(1).inner_text()
        assert "Kasan" in frame.locator(".src mark").last.inner_text()
        frame.locator("#question").fill("x" * 2500)  # the panel's errors speak its language, German here
        frame.locator("#send").click()
        frame.locator(".answer").nth(2).wait_for(timeout=30_000)
        assert (
            frame.locator(".answer")
            .nth(2)
            .inner_text()
            .startswith("Die Frage ist 2.500 Zeichen lang; erlaubt sind 2.000.")
        )
        frame.locator("#question").fill(XSS)
        frame.locator("#send").click()
        frame.locator(".answer").nth(3).wait_for(timeout=30_000)
        assert XSS in frame.locator(".q").nth(3).inner_text() and page.dialogs == []  # type: ignore[attr-defined]
        shot(page, "widget.png")
        # Closed by its button and by Escape; focus goes back to the bubble, and into the panel on opening.
        assert frame.locator("#close").get_attribute("aria-label") == "Schließen"
        frame.locator("#close").click()
        page.locator("#rag-widget-frame").wait_for(state="hidden")
        assert bubble.get_attribute("aria-expanded") == "false"
        assert bubble.evaluate("b => document.activeElement === b")
        page.keyboard.press("Enter")  # the focused bubble opens the panel again
        page.locator("#rag-widget-frame").wait_for(state="visible")
        wait_for_focus_in_panel(page)
        page.keyboard.press("Escape")
        page.locator("#rag-widget-frame").wait_for(state="hidden")
        assert frame.locator(".answer").count() == 4  # closing keeps the conversation


def test_widget_on_a_page_from_another_origin_is_not_shown(server: str, page: Page, tmp_path: Path) -> None:
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    with static_site(_host_page(tmp_path / "other", server, "Wer ist Rutte?")) as site:  # a port not allowed
        with page.expect_console_message(lambda m: "rag-assistant widget" in m.text, timeout=10_000):
            page.goto(site + "/index.html")
        page.wait_for_timeout(500)
        assert page.locator("#rag-widget-button").count() == 0 and page.locator("iframe").count() == 0
        ours = [line for line in console if "rag-assistant widget" in line]
        assert len(ours) == 1 and site in ours[0] and "RAG_ALLOWED_ORIGINS" in ours[0], console
        shot(page, "widget-blocked.png")
        status = page.evaluate(f"fetch('{server}/api/health').then(r => 'open', e => 'blocked')")
        assert status == "blocked"  # and CORS keeps the API out
