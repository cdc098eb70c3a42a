"""The indexing run's encoder (`rag.embed.indexing`): bf16 torch only where it pays, same vectors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from rag import sentvec
from rag.chunk import chunks_for
from rag.config import Settings
from rag.embed.indexing import MIN_CHARS, IndexEncoder, native_bf16
from rag.errors import SettingsError
from rag.ingest import discover, load_document
from rag.pipeline import Assistant
from tests.conftest import SEEDS
from tests.hash_embedder import HashEmbedder

FLAGS = "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx2 avx512f {}\n\n"


@pytest.mark.parametrize(("extra", "expected"), [("avx512_bf16", True), ("amx_bf16 amx_tile", True), ("", False)])
def test_native_bf16_reads_the_cpu_flags(tmp_path: Path, extra: str, expected: bool) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(FLAGS.format(extra), encoding="utf-8")
    assert native_bf16(info) is expected


def test_native_bf16_is_false_where_there_is_no_cpuinfo(tmp_path: Path) -> None:
    assert native_bf16(tmp_path / "missing") is False


def test_an_unknown_mode_is_refused_with_the_variable_name() -> None:
    with pytest.raises(SettingsError, match="RAG_INDEX_BF16"):
        Settings.from_env({"RAG_INDEX_BF16": "maybe"})


@pytest.mark.parametrize(
    ("mode", "backend", "native", "chars", "allowed_for_run"),
    [
        ("auto", "onnx", True, MIN_CHARS, True),
        ("auto", "onnx", True, MIN_CHARS - 1, False),  # a few articles: loading torch costs more
        ("auto", "onnx", False, 10 * MIN_CHARS, False),  # bf16 emulated: slower than fp32
        ("auto", "onnx-int8", True, 10 * MIN_CHARS, False),  # an int8 index must stay int8
        ("off", "onnx", True, 10 * MIN_CHARS, False),
        ("on", "onnx", False, 1, True),
        ("on", "torch", False, 1, True),
        ("on", "onnx-int8", True, 10 * MIN_CHARS, False),
    ],
)
def test_bf16_is_chosen_only_where_it_pays(
    mode: str, backend: str, native: bool, chars: int, allowed_for_run: bool
) -> None:
    settings = Settings.from_env({}, index_bf16=mode, embed_backend=backend)
    enc = IndexEncoder(settings, HashEmbedder, native=native).for_run(chars)
    assert (enc.allowed and enc.chars >= enc.min_chars) is allowed_for_run


def test_without_bf16_everything_goes_through_the_serving_embedder() -> None:
    serving = HashEmbedder()
    enc = IndexEncoder(Settings.from_env({}, index_bf16="off"), lambda: serving).for_run(10 * MIN_CHARS)
    texts = ["Japan und Südkorea", "Manöver im Japanischen Meer"]
    assert np.array_equal(enc.embed_passages(texts), serving.embed_passages(texts))
    assert np.array_equal(enc.embed_queries(texts), serving.embed_queries(texts))
    assert (enc.name, enc.dim, enc.path) == (serving.name, serving.dim, "onnx")


@pytest.mark.slow
def test_bf16_vectors_match_the_fp32_export(settings: Settings, embedder) -> None:
    """The seeds' chunks and sentences through torch in bf16: within cosine 0.9999 of the ONNX fp32
    vectors that serve queries, so an index built either way serves the other's queries."""
    chunks = [c.text for p in discover(SEEDS) for c in chunks_for(load_document(p), settings)]
    texts = chunks + [s for c in chunks for s in sentvec.texts(c)][:60]
    enc = IndexEncoder(dataclasses.replace(settings, index_bf16="on"), lambda: embedder).for_run(1)
    fast = enc.embed_passages(texts)
    assert enc.path == "torch bf16"
    reference = embedder.embed_passages(texts)
    cosines = np.sum(fast * reference, axis=1)
    assert cosines.min() > 0.9999, cosines.min()


@pytest.mark.slow
def test_an_index_built_in_bf16_answers_like_the_fp32_one(
    settings: Settings, assistant: Assistant, tmp_path: Path
) -> None:
    """Same seeds, indexed with bf16 forced: the served answers' sources are the fp32 index's."""
    fast = Assistant(dataclasses.replace(settings, data_dir=tmp_path / "bf16", index_bf16="on"))
    report = fast.index(progress=False)
    assert report.encoder == "torch bf16" and report.chunks == assistant.store().count()
    for q in ("Welche Länder hielten Manöver ab?", "Who succeeded Stoltenberg?", "Wo findet der BRICS-Gipfel statt?"):
        ours = [h.chunk.chunk_id for h in fast.search(q, k=5)]
        reference = [h.chunk.chunk_id for h in assistant.search(q, k=5)]
        assert ours == reference, q
