"""The answer-generator role: a Protocol, a name → factory registry, and the refusal texts.

A generator gets the question, the numbered sources (source n is `sources[n - 1]`) and the answer
selection stage's ranking of their sentences (`rag.select`, best first), and streams text in which
every claim ends with `[n]`. Checking those markers is `rag.cite`'s job, deciding
whether to answer at all is the pipeline's (see `Assistant.answer_stream`).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rag.errors import RagError
from rag.types import Hit

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.embed import Embedder
    from rag.select import Candidate


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str = ""


class Generator(Protocol):
    """Streams an answer from numbered sources and their ranked sentences; `name` is its registry key."""

    name: str

    def generate(
        self, question: str, sources: Sequence[Hit], lang: str, evidence: Sequence[Candidate] = ()
    ) -> Iterator[str]: ...


class GeneratorUnavailable(RagError):
    """The generator cannot answer right now (server down, timeout); the pipeline falls back."""


# name → (module, factory function name). Factories take (settings, embedder) and import lazily,
# so a missing optional backend only fails when it is chosen.
GENERATORS: dict[str, tuple[str, str]] = {
    "extractive": ("rag.extractive", "create"),
    "openai": ("rag.llm", "create_openai"),
    "llamacpp": ("rag.llm", "create_llamacpp"),
}


def create(name: str, settings: Settings, embedder: Embedder) -> Generator:
    """Build the generator registered under `name`, with a hint when the name is unknown."""
    if name not in GENERATORS:
        raise RagError(f"Unknown generator {name!r}.", f"Choose one of: {', '.join(GENERATORS)}.")
    module, factory = GENERATORS[name]
    build: Callable[[Settings, Embedder], Generator] = getattr(importlib.import_module(module), factory)
    return build(settings, embedder)


def available(settings: Settings) -> list[str]:
    """Names of the generators that can run with this configuration (for pickers and `--help`)."""
    out = ["extractive"]
    if settings.llm_base_url:
        out.append("openai")
    if importlib.util.find_spec("llama_cpp") is not None:
        out.append("llamacpp")
    return out
