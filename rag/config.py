"""Settings: one frozen dataclass with defaults in code, `RAG_*` environment variables, flags on top.

Settings are checked when they are made, so a typo in `RAG_RETRIEVAL` or a chunk size of 0 stops
the program at once with the variable's name, not with a traceback deep inside a stage.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from rag.errors import RagError, SettingsError

# The named choices; each stage's own registry must agree (tests/test_config.py checks it).
Retrieval = Literal["hybrid", "dense", "lexical"]  # rag.retrieve.METHODS
Fusion = Literal["boost", "rrf", "score"]  # rag.fusion.FUSIONS
Adaptive = Literal["language", "coverage", "off"]  # rag.fusion.ADAPTIVE
EmbedBackend = Literal["torch", "onnx", "onnx-int8"]  # rag.embed.create_embedder
IndexBf16 = Literal["auto", "on", "off"]  # rag.embed.indexing
GeneratorName = Literal["extractive", "openai", "llamacpp"]  # rag.generate.GENERATORS
CHOICES: dict[str, tuple[str, ...]] = {
    "retrieval": get_args(Retrieval),
    "fusion": get_args(Fusion),
    "adaptive": get_args(Adaptive),
    "embed_backend": get_args(EmbedBackend),
    "index_bf16": get_args(IndexBf16),
    "generator": get_args(GeneratorName),
}
# RAG_ADAPTIVE was a switch before it had modes; the old values still work.
ADAPTIVE_SWITCH = dict.fromkeys(("true", "1", "yes", "on"), "language") | dict.fromkeys(("false", "0", "no"), "off")
# Counts and sizes below 1 make no sense (a chunk size of 0 loops, top_k 0 returns nothing).
POSITIVE = (
    "chunk_size",
    "top_k",
    "candidates",
    "batch_size",
    "concurrency",
    "max_question_chars",
    "answer_sentences",
    "upload_max_files",
    "ef_search",
)
TIMEOUTS = ("store_timeout", "llm_timeout")  # seconds; 0 or less would fail every request at once


def default_cache_dir() -> Path:
    """Where provisioned models live: outside the project, shared by every checkout of a user."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag-assistant"


@dataclass(frozen=True)
class Settings:
    """Every knob of the pipeline. Field `x` is read from `RAG_X`."""

    data_dir: Path = Path("data")
    seeds_dir: Path = Path("seeds")
    cache_dir: Path = default_cache_dir()
    # Empty means: the offline multilingual-e5-small provisioned into `cache_dir`.
    embed_model: str = ""
    # onnx (default: the model exported once to ONNX, same vectors as torch, twice as fast per
    # query, no torch at run time), torch (sentence-transformers) or onnx-int8 (faster still,
    # costs 0.018 MRR@10 on the dev set): see `python -m eval.bench.onnx`.
    embed_backend: EmbedBackend = "onnx"
    # How `rag index` embeds passages: auto (torch in bfloat16 for a large run on a CPU with bf16
    # arithmetic, else the embed backend), on or off; see `rag.embed.indexing`.
    index_bf16: IndexBf16 = "auto"
    collection: str = "articles"
    # http://host:port of a `chroma run` server; empty means the embedded store in data_dir.
    chroma_url: str = ""
    # HNSW search breadth (candidates Chroma's vector search keeps per query; Chroma's default is
    # 100). Set on the collection when the store opens; see README "Performance" for recall@10
    # against exact search and query latency per value.
    ef_search: int = 300
    # Seconds one request to the Chroma server may take; then the index counts as unreachable
    # (the API answers 503 with Retry-After) instead of hanging on a stalled server.
    store_timeout: float = 10.0
    # Chosen by measurement on the dev questions (see README, "Chunking").
    chunk_size: int = 600
    chunk_overlap: int = 100
    # A paragraph longer than chunk_size but at most this many times as long is one chunk, whole
    # (`rag.chunk`); 0 cuts every paragraph at chunk_size. A share of the chunk size, so a smaller
    # RAG_CHUNK_SIZE keeps its meaning. 4/3: 800 characters at 600, chosen on both question sets
    # with cross-validation by article (README "Chunking").
    paragraph_ratio: float = 4 / 3
    top_k: int = 10
    retrieval: Retrieval = "hybrid"
    # boost (dense cosine + lexical_boost × BM25 / best BM25), rrf or score; see rag.fusion.
    fusion: Fusion = "boost"
    # BM25's bonus in the boost fusion for German and for English questions, fitted with
    # cross-validation by article on both question sets (python -m eval.fit_fusion); see README
    # "Retrieval quality".
    lexical_boost: float = 0.02
    lexical_boost_en: float = 0.02
    # Weight of the dense ranking in the rrf and score fusions; the lexical ranking gets 1 - dense_weight.
    dense_weight: float = 0.6
    # BM25's weight per question: language (a weight per question language, scaled by the share of
    # the question's words the corpus knows), coverage (one weight, scaled; before issue 13) or off.
    adaptive: Adaptive = "language"
    rrf_k: int = 20
    # A chunk's dense score: (1 - w) × its cosine + w × its best sentence's cosine (`rag.sentvec`);
    # 0 ranks by the chunk vector alone. See README "Retrieval quality".
    sentence_weight: float = 0.5
    candidates: int = 50
    # English-German dictionary for English questions' BM25 query (`rag.glossary`): a Ding-format
    # file; empty means Debian's trans-de-en where installed, "off" none.
    glossary: str = ""
    # The top sources reordered by the answer they hold: fused score + rerank × the answer stage's
    # best-sentence score (`rag.rerank`); 0 keeps the retriever's order. Chosen with
    # cross-validation by article on both question sets (README "Retrieval quality").
    rerank: float = 0.025
    batch_size: int = 32
    max_question_chars: int = 2000
    generator: GeneratorName = "extractive"
    # A floor against far-off questions: refuse when the best passage's dense similarity is below
    # this, whatever the evidence says. Below every answerable question of both dev sets (lowest:
    # 0.811 German, 0.761 English); the refusal itself is `rag.answerable`'s fitted model.
    refuse_below: float = 0.80
    # e5 scores English questions over German text lower across the board, so English gets its own.
    refuse_below_en: float = 0.75
    # Sentences the extractive generator may quote.
    answer_sentences: int = 4
    # A further sentence joins the extractive answer when its answer score is within this of the
    # best one's (a difference of 1 is a factor e in the odds); see README "Answers".
    answer_margin: float = 2.0
    # Any OpenAI-compatible chat-completions server (Ollama, vLLM, llama.cpp server, OpenAI).
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = field(default="", repr=False)  # never in logs or error messages
    llm_timeout: float = 60.0
    # Local GGUF file for the llamacpp generator; empty means the provisioned default.
    llm_gguf: str = ""
    # Browser chat / HTTP API / widget server (python -m ui).
    host: str = "127.0.0.1"
    port: int = 7860
    # Comma-separated origins that may embed the widget and call the API; empty means the server's
    # own origin plus http://localhost:* and http://127.0.0.1:* (CORS and CSP frame-ancestors).
    allowed_origins: str = ""
    # Answers computed at once; further requests wait in a queue of at most `max_queue`, then "busy".
    concurrency: int = 2
    max_queue: int = 32
    # Bearer token for /api/* and /v1/* (`Authorization: Bearer KEY`); empty leaves them open.
    api_key: str = field(default="", repr=False)  # never in logs or error messages
    # Bearer token for adding and deleting articles (browser panel, /api/documents); empty: read-only.
    admin_token: str = field(default="", repr=False)  # never in logs or error messages
    # Upload limits: megabytes per file and files per request.
    upload_max_mb: float = 5.0
    upload_max_files: int = 10

    @property
    def sentence_vectors(self) -> bool:
        """Whether the index stores sentence vectors beside chunk vectors (a weight of 0 reads none)."""
        return self.sentence_weight > 0

    def __post_init__(self) -> None:
        """Reject what no stage could work with, naming the variable and what it may be."""
        adaptive = ADAPTIVE_SWITCH.get(str(self.adaptive).strip().lower())
        if adaptive:
            object.__setattr__(self, "adaptive", adaptive)
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise SettingsError(
                    f"RAG_{name.upper()}={value!r} is not a known {name} setting; allowed: {_alternatives(allowed)}.",
                    f"Set RAG_{name.upper()} to {_alternatives(allowed)}, or unset it for {_default(name)!r}.",
                )
        for name in POSITIVE:
            if not getattr(self, name) >= 1:
                raise _out_of_range(name, getattr(self, name), "must be 1 or more")
        for name in TIMEOUTS:
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise _out_of_range(name, value, "must be a number of seconds above 0")
        if not (self.upload_max_mb > 0 and math.isfinite(self.upload_max_mb)):
            raise _out_of_range("upload_max_mb", self.upload_max_mb, "must be a number of megabytes above 0")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise _out_of_range(
                "chunk_overlap", self.chunk_overlap, f"must be at least 0 and below RAG_CHUNK_SIZE={self.chunk_size}"
            )
        for name in ("max_queue", "rrf_k"):  # no queue is allowed; RRF's k=0 is plain reciprocal rank
            if getattr(self, name) < 0:
                raise _out_of_range(name, getattr(self, name), "must be 0 or more")
        if not (self.paragraph_ratio >= 0 and math.isfinite(self.paragraph_ratio)):
            raise _out_of_range(
                "paragraph_ratio", self.paragraph_ratio, "must be 0 (cut every paragraph) or a share of the chunk size"
            )
        if not (self.rerank >= 0 and math.isfinite(self.rerank)):
            raise _out_of_range("rerank", self.rerank, "must be 0 (the retriever's order) or more")
        if not 0 <= self.sentence_weight <= 1:
            raise _out_of_range("sentence_weight", self.sentence_weight, "must be from 0 to 1")
        if not 0 <= self.port <= 65535:
            raise _out_of_range("port", self.port, "must be a port number from 0 to 65535")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `RAG_*` variables, then non-None keyword overrides (flags)."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"RAG_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = convert(f.name, raw, type(getattr(cls(), f.name)))
        for k, v in overrides.items():
            if v is not None:
                values[k] = Path(v).expanduser() if isinstance(getattr(cls(), k), Path) else v
        return replace(cls(), **values)


def convert(name: str, raw: str, kind: type) -> Any:
    """A `RAG_*` string as the type of the setting it sets (also used for eval config strings)."""
    try:
        if kind is Path or issubclass(kind, Path):
            return Path(raw).expanduser()
        if kind is bool:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        return kind(raw)  # type: ignore[call-arg]  # int/float/str from a dataclass default
    except ValueError as exc:
        raise RagError(
            f"RAG_{name.upper()}={raw!r} is not a valid {kind.__name__}.",
            f"Set RAG_{name.upper()} to a {kind.__name__} or unset it.",
        ) from exc


def _alternatives(allowed: tuple[str, ...]) -> str:
    return ", ".join(allowed[:-1]) + f" or {allowed[-1]}" if len(allowed) > 1 else allowed[0]


def _default(name: str) -> Any:
    return next(f.default for f in fields(Settings) if f.name == name)


def _out_of_range(name: str, value: object, rule: str) -> SettingsError:
    return SettingsError(
        f"RAG_{name.upper()}={value!r} {rule}.",
        f"Change RAG_{name.upper()}, or unset it for the default ({_default(name)!r}).",
    )
