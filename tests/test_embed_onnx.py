"""The ONNX backends (fp32 is the default) embed like the torch model they are exported from,
serving loads neither torch nor sentence-transformers, and int8 keeps its own index."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.chunk import chunks_for
from rag.config import Settings
from rag.embed import create_embedder
from rag.embed.torch import SentenceTransformerEmbedder
from rag.errors import RagError
from rag.ingest import load_document
from rag.pipeline import Assistant
from tests.conftest import SEEDS, earlier_export

pytestmark = pytest.mark.slow  # loads torch and the real model


@pytest.fixture(scope="module")
def texts(settings: Settings) -> list[str]:
    doc = load_document(sorted(SEEDS.glob("*.txt"))[0])
    return [c.text for c in chunks_for(doc, settings)]


@pytest.fixture(scope="module")
def torch_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(settings)


@pytest.mark.parametrize(("int8", "floor"), [(False, 0.9999), (True, 0.95)])
def test_onnx_vectors_match_torch(
    settings: Settings, torch_embedder: SentenceTransformerEmbedder, texts: list[str], int8: bool, floor: float
) -> None:
    onnx = create_embedder(dataclasses.replace(settings, embed_backend="onnx-int8" if int8 else "onnx"))
    for a, b in (
        (onnx.embed_passages(texts), torch_embedder.embed_passages(texts)),
        (onnx.embed_queries(["Wer vertrat Russland?"]), torch_embedder.embed_queries(["Wer vertrat Russland?"])),
    ):
        assert a.shape == b.shape and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-4)
        assert np.min(np.sum(a * b, axis=1)) >= floor


def test_serving_loads_neither_torch_nor_sentence_transformers(assistant: Assistant) -> None:
    """Cold start: an answer from the default backend in a fresh process imports neither."""
    s = assistant.settings
    code = (
        "import json, sys; from rag.config import Settings; from rag.pipeline import Assistant; "
        f"a = Assistant(Settings.from_env(data_dir={str(s.data_dir)!r}, seeds_dir={str(s.seeds_dir)!r})); "
        "ans = a.answer('Wo findet der BRICS-Gipfel statt?'); "
        "print(json.dumps([bool(ans.citations)] + [m in sys.modules for m in ('torch', 'sentence_transformers')]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "RAG_EMBED_BACKEND"}  # the default
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert json.loads(out.strip().splitlines()[-1]) == [True, False, False]


def test_torch_and_onnx_share_an_index_but_int8_refuses_it(assistant: Assistant, tmp_path: Path) -> None:
    other = "onnx" if assistant.settings.embed_backend == "torch" else "torch"
    same = Assistant(dataclasses.replace(assistant.settings, embed_backend=other))
    hits = same.search("Wo findet der BRICS-Gipfel statt?", k=3)
    assert hits[0].chunk.chunk_id == assistant.search("Wo findet der BRICS-Gipfel statt?", k=3)[0].chunk.chunk_id
    int8 = Assistant(dataclasses.replace(assistant.settings, embed_backend="onnx-int8"))
    with pytest.raises(RagError, match="--rebuild"):
        int8.search("Wo findet der BRICS-Gipfel statt?")


def test_unknown_backend_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(RagError, match="torch, onnx or onnx-int8"):
        _ = Assistant(dataclasses.replace(settings, embed_backend="tpu")).embedder


def test_a_damaged_export_is_a_clear_error(settings: Settings, tmp_path: Path) -> None:
    """A truncated model.onnx (a full disk, a killed copy) says which folder to delete."""
    from rag import provision
    from rag.provision_onnx import ensure_export, onnx_dir

    good = ensure_export(settings)
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    mine = dataclasses.replace(settings, cache_dir=cache)
    provision.model_dir(cache).symlink_to(provision.model_dir(settings.cache_dir))
    broken = onnx_dir(mine)
    broken.mkdir()
    for f in good.iterdir():
        if f.name != "model.onnx":
            (broken / f.name).symlink_to(f)
    (broken / "model.onnx").write_bytes((good / "model.onnx").read_bytes()[:100_000])
    with pytest.raises(RagError, match="Delete .*onnx-"):
        create_embedder(dataclasses.replace(mine, embed_backend="onnx"))


def test_the_weights_live_in_a_file_of_their_own_and_old_exports_are_converted(
    settings: Settings, tmp_path: Path
) -> None:
    """onnxruntime memory-maps model.onnx.data instead of copying inline weights; an export made
    before (weights inside model.onnx) is converted on first use and embeds exactly as before."""
    import onnx

    from rag.embed.onnx import DATA, FP32

    mine, good, old = earlier_export(settings, tmp_path)
    assert (good / FP32).stat().st_size < 5_000_000 and (good / DATA).stat().st_size > 400_000_000
    for f in good.iterdir():
        if f.name not in (FP32, DATA, "model-int8.onnx"):
            (old / f.name).symlink_to(f)
    onnx.save_model(onnx.load(str(good / FP32)), str(old / FP32))  # the inline layout of earlier releases
    assert (old / FP32).stat().st_size > 400_000_000 and not (old / DATA).exists()
    texts = ["Wo findet der BRICS-Gipfel statt?", "Die Minister beschlossen, Marinemanöver abzuhalten."]
    converted = create_embedder(mine).embed_passages(texts)
    assert (old / FP32).stat().st_size < 5_000_000 and (old / DATA).is_file()
    assert not [p for p in old.iterdir() if p.name.startswith(".external")]
    assert np.array_equal(
        converted, create_embedder(dataclasses.replace(settings, embed_backend="onnx")).embed_passages(texts)
    )


def test_serving_tokenizes_with_sentencepiece_and_the_same_ids(settings: Settings) -> None:
    """The export converts e5's tokenizer.json to SentencePiece (a fifth of the memory); the ids
    are those of tokenizer.json for every line of the seeds and every benchmark question."""
    from rag.embed.onnx import SPM, TOKENIZER, _HuggingFace, _Pieces
    from rag.provision_onnx import ensure_export
    from tests.conftest import ROOT

    folder = ensure_export(settings)
    assert (folder / SPM).is_file()
    embedder = create_embedder(dataclasses.replace(settings, embed_backend="onnx"))
    assert isinstance(embedder.tokenizer, _Pieces)  # type: ignore[attr-defined]
    meta = json.loads((folder / "embedder.json").read_text(encoding="utf-8"))
    pieces, hf = _Pieces(folder / SPM, meta), _HuggingFace(folder / TOKENIZER, meta)
    bench = ROOT / "eval" / "benchmarks" / "xquad-de" / "questions.jsonl"
    texts = [line for p in sorted(SEEDS.glob("*.txt")) for line in p.read_text(encoding="utf-8").splitlines()]
    texts += [json.loads(line)["question"] for line in bench.read_text(encoding="utf-8").splitlines()]
    texts += ["passage: " + " ".join(texts[:400])]  # longer than 512 tokens: cut the same way
    for i in range(0, len(texts), 64):
        a, b = pieces.encode(texts[i : i + 64]), hf.encode(texts[i : i + 64])
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
