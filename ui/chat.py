"""The Gradio chat: streamed answers, sources shown as soon as retrieval is done, follow-ups."""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from rag.errors import RagError, StoreUnavailable
from rag.generate import Turn, available
from rag.lang import detect
from rag.pipeline import Assistant
from rag.types import Answer, Hit
from ui.render import TEXT, answer_html, answer_message, sources_html

log = logging.getLogger(__name__)

EXAMPLES = [
    "Welche Länder hielten Manöver ab?",
    "Wer vertrat Russland bei den 2+2-Beratungen in Tokio?",
    "Where will the BRICS summit take place?",
    "Warum sind die Beziehungen zwischen Tokio und Seoul belastet?",
]
# Interface text; Gradio picks the browser's language, German for German browsers.
I18N = gr.I18n(
    de={
        "title": "Fragen an die Artikel",
        "question": "Frage",
        "placeholder": "Frage auf Deutsch oder Englisch, z. B. Welche Länder hielten Manöver ab?",
        "ask": "Fragen",
        "clear": "Neues Gespräch",
        "generator": "Antwort-Generator",
        "examples": "Beispiele",
        "chat": "Antworten mit Quellen",
    },
    en={
        "title": "Ask the articles",
        "question": "Question",
        "placeholder": "Ask in German or English, e.g. Which countries held maneuvers?",
        "ask": "Ask",
        "clear": "New conversation",
        "generator": "Answer generator",
        "examples": "Examples",
        "chat": "Answers with sources",
    },
)
CSS = """
.sources .src { border-left: 3px solid #ccc; padding: 4px 10px; margin: 8px 0; }
.sources .src.cited { border-left-color: #e0a800; }
.sources .src:target { background: #fff8dc; }
.sources mark { background: #ffe066; }
"""


def respond(
    assistant: Assistant, question: str, messages: list[dict[str, Any]], turns: list[dict[str, str]], generator: str
) -> Iterator[tuple[Any, ...]]:
    """Stream one exchange: (chat messages, sources HTML, turns, textbox value) after each event."""
    question = (question or "").strip()
    lang = detect(question)
    msgs = [*messages, {"role": "user", "content": html.escape(question)}, {"role": "assistant", "content": "…"}]
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
    except RagError as exc:
        msgs[-1]["content"] = html.escape(f"{exc.message} {exc.hint}".strip())
        yield msgs, gr.skip(), turns, question
        return
    assert answer is not None
    log.info("answer after %.0f ms", 1000 * (time.perf_counter() - t0))
    msgs[-1]["content"] = answer_message(answer, lang)
    yield msgs, _final_sources(answer, hits, lang), [*turns, {"question": question, "answer": answer.text}], ""


def _final_sources(answer: Answer, hits: tuple[Hit, ...], lang: str) -> str:
    if answer.refused:
        return sources_html(answer.related, lang=lang, related=True)
    return sources_html(hits, answer.citations, lang)


def build(assistant: Assistant, status: str) -> gr.Blocks:
    """The chat page; `status` tells what was loaded (model, index size) at start-up."""
    gens = available(assistant.settings)
    with gr.Blocks(title="rag-assistant", analytics_enabled=False) as demo:
        gr.Markdown(f"## {I18N('title')}")
        gr.Markdown(html.escape(status), elem_id="status")
        turns = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label=I18N("chat"), height=480, elem_id="chat", feedback_options=None)
                question = gr.Textbox(label=I18N("question"), placeholder=I18N("placeholder"), elem_id="question")
                with gr.Row():
                    ask = gr.Button(I18N("ask"), variant="primary", elem_id="ask")
                    clear = gr.Button(I18N("clear"), elem_id="clear")
                generator = gr.Dropdown(gens, value=assistant.settings.generator, label=I18N("generator"))
                gr.Examples(EXAMPLES, inputs=[question], label=I18N("examples"))
            with gr.Column(scale=2):
                sources = gr.HTML(elem_id="sources")

        def _respond(q: str, m: list[dict[str, Any]], t: list[dict[str, str]], g: str) -> Iterator[tuple[Any, ...]]:
            yield from respond(assistant, q, m, t, g)

        inputs, outputs = [question, chat, turns, generator], [chat, sources, turns, question]
        ask.click(_respond, inputs, outputs, api_name="ask")
        question.submit(_respond, inputs, outputs, api_visibility="private")
        clear.click(lambda: ([], "", [], ""), None, outputs, api_visibility="private")
    return demo
