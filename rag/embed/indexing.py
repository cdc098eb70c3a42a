"""The encoder an indexing run embeds passages with: the fastest path the machine has.

Why: on CPUs with native bfloat16 arithmetic (AVX-512 BF16, AMX) torch's oneDNN kernels embed
in bfloat16 faster than the fp32 ONNX export that serves queries (1.5 times with AVX-512 BF16,
several times on AMX), and the vectors stay within cosine 0.9999 of fp32 (0.99996 on the seeds'
chunks and sentences), so an index built this way serves queries embedded in fp32 and the other
way round: it records the same model name (README "Performance" has the measurements).
Importing torch and loading the model takes 3 to 5 s, so only a run with much to embed switches:
`MIN_CHARS` of article text or more (about 25 news articles); one article added from the
browser stays on the serving encoder.
`RAG_INDEX_BF16=on` switches for every run, `off` never.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.embed import Embedder

log = logging.getLogger(__name__)

# Below this much article text (characters) in a run, loading torch costs more than bf16 saves:
# about 5 s to import and load (2-3 s of it saved where the serving encoder is not loaded) against
# about 6 ms saved per text embedded (1.5 x the fp32 export on the seeds' chunks and sentences,
# about 4.5 texts per 500 characters with sentence vectors); measured on 2 cores.
MIN_CHARS = 100_000
# The instruction sets with bfloat16 arithmetic; without them torch emulates bf16, slower than fp32.
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_info(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, set[str]]:
    """The first CPU's model name and flags from /proc/cpuinfo ("" and none where it cannot be read)."""
    model, flags = "", set()
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
            if flags and model:
                break
    except OSError:
        pass  # not Linux
    return model, flags


def native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU computes in bfloat16 itself (read from /proc/cpuinfo; False elsewhere)."""
    return bool(cpu_info(cpuinfo)[1] & set(BF16_FLAGS))


class IndexEncoder:
    """The Embedder protocol for one indexing run: passages through torch in bf16 where that is
    faster, everything else through the serving embedder (which is loaded only if it is needed)."""

    def __init__(self, settings: Settings, serving: Callable[[], Embedder], native: bool | None = None) -> None:
        self.settings = settings
        self._serving = serving
        mode = settings.index_bf16
        # An int8 index is its own kind (`rag.embed.model_id`); bf16 vectors would not match it.
        # `auto` only for the provisioned model, whose bf16 vectors were measured (README "Performance").
        fp32 = settings.embed_backend in ("onnx", "torch")
        native = (native_bf16() if native is None else native) and not settings.embed_model
        self.allowed = fp32 and (mode == "on" or (mode == "auto" and native))
        self.min_chars = 0 if mode == "on" else MIN_CHARS * (1 if settings.sentence_vectors else 2)
        self.chars = 0  # the run's article text, from `for_run`
        self._bf16: Embedder | None = None

    def for_run(self, chars: int) -> IndexEncoder:
        """Itself, told how many characters of article text the run embeds (`rag.index`'s factory)."""
        self.chars = max(self.chars, chars)
        return self

    @property
    def name(self) -> str:
        return self.serving.name

    @property
    def dim(self) -> int:
        return self.serving.dim

    @property
    def serving(self) -> Embedder:
        return self._serving()

    @property
    def path(self) -> str:
        """What embedded this run's passages so far: "torch bf16" or the serving backend's name."""
        return "torch bf16" if self._bf16 is not None else self.settings.embed_backend

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.serving.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if self._bf16 is None and self.allowed and self.chars >= self.min_chars:
            from rag.embed.bf16 import Bf16Encoder

            log.info("embedding passages with torch in bfloat16 (RAG_INDEX_BF16=off turns this off)")
            self._bf16 = Bf16Encoder(self.settings)
        return (self._bf16 or self.serving).embed_passages(texts, progress)
