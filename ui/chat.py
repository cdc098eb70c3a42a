"""The Gradio chat: streamed answers, sources shown as soon as retrieval is done, follow-ups.

Interface strings follow the browser's language (`ui.texts`); answers follow each question's.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from rag.errors import IndexDamaged, RagError, StoreUnavailable
from rag.generate import Turn, available
from rag.lang import detect
from rag.pipeline import Assistant
from rag.types import Answer, Hit
from ui import documents_panel
from ui.render import answer_html, answer_message, articles_html, sources_html
from ui.texts import I18N, TEXT, interface_lang, question_problem

log = logging.getLogger(__name__)

EXAMPLES = [
    "Welche Länder hielten Manöver ab?",
    "Wer vertrat Russland bei den 2+2-Beratungen in Tokio?",
    "Where will the BRICS summit take place?",
    "Warum sind die Beziehungen zwischen Tokio und Seoul belastet?",
]
# Gradio's bundled semi-bold web fonts hold a few glyphs only (a capital A rendered in another
# font than the rest of a heading); system fonts have every glyph, and nothing loads from the web.
FONT = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "Liberation Sans", "Arial", "sans-serif"]
THEME = gr.themes.Default(font=FONT, font_mono=["ui-monospace", "DejaVu Sans Mono", "Consolas", "monospace"])
CSS = (
    """
.sources .src { border-left: 3px solid #ccc; padding: 4px 10px; margin: 8px 0; }
.sources .src.cited { border-left-color: #e0a800; }
.sources .src.hl { background: #fff8dc; }
.sources mark { background: #ffe066; }
.articles li { margin: 6px 0; }
"""
    + documents_panel.CSS
    + """/* Phones: the sources right under the question box, the picker and the examples last. */
@media (max-width: 768px) {
  #main { flex-direction: column; }
  #left { display: contents; }
  #extras { order: 1; }
  #chat { height: 380px !important; }
}
"""
)
# [n] marks source n; a new question clears the mark (its sources replace the old ones).
HEAD = (
    """<script>
(() => {
  function mark(id) {
    document.querySelectorAll(".sources .src.hl").forEach((s) => s.classList.remove("hl"));
    if (id) { const s = document.getElementById(id); if (s) { s.classList.add("hl"); } return; }
    if (location.hash.startsWith("#src-")) { history.replaceState(null, "", location.pathname + location.search); }
  }
  document.addEventListener("click", (e) => {
    const cite = e.target.closest && e.target.closest("a.cite");
    if (cite) { mark(cite.getAttribute("href").slice(1)); }
    else if (e.target.closest && e.target.closest("#ask, #clear")) { mark(null); }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && e.target.closest && e.target.closest("#question")) { mark(null); }
  });
})();
</script>"""
    + documents_panel.JS
)


def lang_of(request: gr.Request | None, question: str = "") -> str:
    """The interface language of the visitor; API clients without a browser get the question's."""
    headers = getattr(request, "headers", None) or {}
    return interface_lang(headers.get("accept-language"), fallback=detect(question))


def welcome(assistant: Assistant, lang: str) -> tuple[str, str]:
    """The status line and, before the first question, the list of articles the assistant knows."""
    try:
        chunks = assistant.retriever.chunks
    except StoreUnavailable as exc:
        log.warning("index unreachable: %s", exc.reason)
        return TEXT[lang]["index_down"], ""
    except IndexDamaged as exc:
        log.error("index damaged: %s", exc)
        return exc.say(lang), ""
    status = TEXT[lang]["ready"].format(chunks=len(chunks), articles=len({c.doc_id for c in chunks}))
    return status, articles_html(chunks, lang)


def respond(
    assistant: Assistant,
    question: str,
    messages: list[dict[str, Any]],
    turns: list[dict[str, str]],
    generator: str,
    lang: str,
) -> Iterator[tuple[Any, ...]]:
    """Stream one exchange: (chat messages, sources HTML, turns, textbox value) after each event."""
    question = (question or "").strip()
    asked = [{"role": "user", "content": html.escape(question)}] if question else []
    msgs = [*messages, *asked, {"role": "assistant", "content": "…"}]
    if problem := question_problem(question, assistant.settings.max_question_chars, lang):
        msgs[-1]["content"] = html.escape(problem)
        yield msgs, gr.skip(), turns, question
        return
    t0 = time.perf_counter()
    hits: tuple[Hit, ...] = ()
    text, answer = "", None
    try:
        history = [Turn(t["question"], t["answer"]) for t in turns]
        for ev in assistant.answer_stream(question, history, generator or None):
            if ev.kind == "sources":
                hits = ev.hits
                log.info("sources after %.0f ms", 1000 * (time.perf_counter() - t0))
                yield msgs, sources_html(hits, lang=lang), turns, ""
            elif ev.kind == "delta":
                text += ev.text
                msgs[-1]["content"] = answer_html(text)
                yield msgs, gr.skip(), turns, ""
            else:
                answer = ev.answer
    except StoreUnavailable as exc:
        log.warning("index unreachable: %s", exc.reason)
        msgs[-1]["content"] = html.escape(TEXT[lang]["index_down"])
        yield msgs, gr.skip(), turns, question
        return
    except IndexDamaged as exc:
        log.error("index damaged: %s", exc)
        msgs[-1]["content"] = html.escape(exc.say(lang))
        yield msgs, gr.skip(), turns, question
        return
    except RagError as exc:  # said in full in the log; visitors get no server paths or settings
        log.warning("no answer to a question: %s", exc)
        msgs[-1]["content"] = html.escape(TEXT[lang]["failed"])
        yield msgs, gr.skip(), turns, question
        return
    assert answer is not None
    log.info("answer after %.0f ms", 1000 * (time.perf_counter() - t0))
    msgs[-1]["content"] = answer_message(answer, lang, detect(question))
    yield msgs, _final_sources(answer, hits, lang), [*turns, {"question": question, "answer": answer.text}], ""


def _final_sources(answer: Answer, hits: tuple[Hit, ...], lang: str) -> str:
    if answer.refused:
        return sources_html(answer.related, lang=lang, related=True)
    return sources_html(hits, answer.citations, lang)


def build(assistant: Assistant) -> gr.Blocks:
    """The chat page: answers on the left, sources on the right (under the question box on phones)."""
    gens = available(assistant.settings)
    with gr.Blocks(title="rag-assistant", analytics_enabled=False) as demo:
        gr.Markdown(f"## {I18N('title')}")
        status = gr.Markdown(elem_id="status")
        turns = gr.State([])
        with gr.Row(elem_id="main"):
            with gr.Column(scale=3, elem_id="left"):
                chat = gr.Chatbot(label=I18N("chat"), height=480, elem_id="chat", feedback_options=None)
                question = gr.Textbox(label=I18N("question"), placeholder=I18N("placeholder"), elem_id="question")
                with gr.Row():
                    ask = gr.Button(I18N("ask"), variant="primary", elem_id="ask")
                    clear = gr.Button(I18N("clear"), elem_id="clear")
                with gr.Column(elem_id="extras"):
                    generator = gr.Dropdown(
                        gens, value=assistant.settings.generator, label=I18N("generator"), elem_id="generator"
                    )
                    gr.Examples(EXAMPLES, inputs=[question], label=I18N("examples"))
                    docs_controls, docs_list, docs_refresh = documents_panel.build()
            with gr.Column(scale=2, elem_id="side"):
                sources = gr.HTML(elem_id="sources")

        def _respond(
            q: str, m: list[dict[str, Any]], t: list[dict[str, str]], g: str, request: gr.Request
        ) -> Iterator[tuple[Any, ...]]:
            yield from respond(assistant, q, m, t, g, lang_of(request, q))

        def _welcome(request: gr.Request) -> tuple[str, str]:
            return welcome(assistant, lang_of(request))

        def _clear(request: gr.Request) -> tuple[Any, ...]:
            return [], welcome(assistant, lang_of(request))[1], [], ""

        inputs, outputs = [question, chat, turns, generator], [chat, sources, turns, question]
        ask.click(_respond, inputs, outputs, api_name="ask")
        question.submit(_respond, inputs, outputs, api_visibility="private")
        clear.click(_clear, None, outputs, api_visibility="private")
        demo.load(_welcome, None, [status, sources], api_visibility="private")

        def _docs(request: gr.Request) -> tuple[str, str]:
            lang = lang_of(request)
            return documents_panel.controls_html(assistant, lang), documents_panel.list_html(assistant, lang)

        def _docs_list(request: gr.Request) -> str:
            return documents_panel.list_html(assistant, lang_of(request))

        demo.load(_docs, None, [docs_controls, docs_list], api_visibility="private")
        docs_refresh.click(_docs_list, None, docs_list, api_visibility="private")
    return demo
