"""What the CLI prints for people: passages, streamed answers with their sources, a chat loop."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.generate import Turn
from rag.lang import detect
from rag.texts import TERMINAL, TEXT
from rag.types import Answer, Hit

if TYPE_CHECKING:
    from rag.filters import Filter
    from rag.pipeline import Assistant

# Control characters (ESC starts terminal escape sequences: clear screen, set title, fake links)
# and bidi overrides that article text could carry; never printed to a terminal.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe(text: str) -> str:
    """Text as it may reach a terminal: tabs and newlines kept, other control characters dropped."""
    return _UNSAFE.sub("", text)


def show_hits(hits: Sequence[Hit]) -> None:
    for n, h in enumerate(hits, 1):
        j = h.to_json()
        place = f"{j['doc']}:{j['start']}-{j['end']}"
        print(
            safe(f"[{n}] {j['title'] or j['doc']} ({j['date'] or TERMINAL['undated']}) {place}")
            + f"  score {j['score']:.4f}"
        )
        print("    " + safe(h.chunk.text.replace("\n", " "))[:300])


def show_sources(answer: Answer) -> None:
    """The numbered citations under an answer, or the maybe-related passages of a refusal."""
    if answer.notice:
        print(f"\n({safe(answer.notice)})")
    if answer.refused:
        if answer.related:
            print("\n" + TEXT[detect(answer.text)]["related"])
            show_hits(answer.related)
        return
    print()
    for c in answer.citations:
        where = c.article.where
        print(safe(f"[{c.n}] {c.title or c.doc}{f' ({where})' if where else ''} {c.url}".rstrip()))
        print(f"    „{safe(c.quote)}“")
    for claim in answer.unsupported:
        print(f"  ! {TERMINAL['unsupported']}: {safe(claim)[:120]}")


def stream_answer(
    assistant: Assistant, question: str, history: Sequence[Turn], generator: str | None, only: Filter | None = None
) -> Answer:
    """Print the answer as it is generated, then its sources; return it for the history."""
    answer = None
    for event in assistant.answer_stream(question, history, generator, only):
        if event.kind == "delta":
            print(safe(event.text), end="", flush=True)
        elif event.answer is not None:
            answer = event.answer
    assert answer is not None
    if answer.refused:
        print(safe(answer.text), end="")
    print()
    show_sources(answer)
    return answer


def chat(assistant: Assistant, generator: str | None = None) -> int:
    """An interactive session with history, so follow-ups ("Und was sagte Schoigu dazu?") work."""
    print(TERMINAL["prompt"])
    history: list[Turn] = []
    while True:
        try:
            line = input("> ").strip()
        except EOFError:
            return 0
        if not line:
            return 0
        try:
            answer = stream_answer(assistant, line, history, generator)
            history.append(Turn(line, answer.text))
        except RagError as exc:
            print(f"error: {exc}", file=sys.stderr)
