"""Export the embedding model to ONNX once, fp32 and dynamically quantized to int8.

The export is made from the sentence-transformers model into the model cache, with everything
`rag.embed.onnx` needs beside it (tokenizer.json, prompts, pooling length), so later processes
load only onnxruntime and tokenizers. sentence-transformers' own ONNX backend needs `optimum`,
whose releases pin transformers < 5 and clash with this project's pins, so the export is done
here: torch.onnx, then onnxruntime's `quantize_dynamic` for int8.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.embed import STATES_LAYER
from rag.embed.onnx import DATA, FP32, INT8, META, SPM, STATES, TOKENIZER
from rag.provision import DEFAULT_MODEL_ID

if TYPE_CHECKING:
    from rag.embed.torch import SentenceTransformerEmbedder

log = logging.getLogger(__name__)


def onnx_dir(settings: Settings) -> Path:
    """Where the exports of the current model live (one folder per model, shared by checkouts)."""
    base = settings.embed_model or DEFAULT_MODEL_ID
    return settings.cache_dir / "models" / ("onnx-" + re.sub(r"[^\w.-]+", "_", base))


def _write(final: Path, write: Callable[[str], object]) -> None:
    """`write(path)` into a temporary name of this process, then rename: a crash or a second
    process exporting at the same time never leaves half a file under the final name."""
    tmp = final.with_name(f"{final.name}.{os.getpid()}.tmp")
    write(str(tmp))
    os.replace(tmp, final)


def export(st: SentenceTransformerEmbedder, folder: Path) -> None:
    """torch → ONNX (dynamic batch and length), plus the tokenizer and settings serving needs.

    The meta file is written last: its presence means the folder is complete.
    """
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: Any, mask: Any) -> Any:
            return self.model(input_ids=ids, attention_mask=mask).last_hidden_state

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = st.model.tokenizer
    sample = tokenizer(["passage: Beispiel", "passage: ein zweiter Satz"], padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    log.info("exporting the embedding model to ONNX (once): %s", folder)
    _write(
        folder / FP32,
        lambda path: torch.onnx.export(
            Encoder(st.model.transformers_model).eval(),
            (sample["input_ids"], sample["attention_mask"]),
            path,
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
            opset_version=17,
            dynamo=False,
        ),
    )
    _write(folder / TOKENIZER, tokenizer.backend_tokenizer.save)
    meta = {
        "name": st.name,
        "dim": st.dim,
        "query_prompt": st.query_prompt,
        "passage_prompt": st.passage_prompt,
        "max_tokens": int(st.model.max_seq_length or 512),
        "pad_id": int(tokenizer.pad_token_id or 0),
        "pad_token": str(tokenizer.pad_token or "<pad>"),
    }
    _write(folder / META, lambda path: Path(path).write_text(json.dumps(meta, indent=2), encoding="utf-8"))


# A model.onnx larger than this still holds its weights (an export made before they moved to DATA).
_INLINE = 50_000_000


def externalize(folder: Path) -> None:
    """Move the fp32 model's weights out of model.onnx into DATA, which onnxruntime memory-maps.

    Why: a model with inline weights is parsed and copied on load, so a serving process briefly
    holds the 470 MB twice; memory-mapped, only the pages a run touches count (the few rows of the
    250k-token embedding table a text uses): the session's load peak fell from 876 to 146 MB, and
    the peak of a serving process answering 40 dev questions (`eval.bench.probe`) from 961 to 915 MB
    (the tokenizer's 282 MB and the pages of the table that texts touch remain). The vectors are
    bit-identical. Written in a private folder and renamed into place, the weights before the model
    that reads them, so a crash or a second process converting at the same time leaves either the
    old or the new pair.
    """
    import onnx

    tmp = folder / f".external.{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    try:
        model = onnx.load(str(folder / FP32))
        onnx.save_model(
            model,
            str(tmp / FP32),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=DATA,
            size_threshold=1024,
        )
        os.replace(tmp / DATA, folder / DATA)
        os.replace(tmp / FP32, folder / FP32)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# Raised when `write_spm` changes, so a tokenizer it could not convert before is tried again.
SPM_VERSION = 1
# Texts the SentencePiece conversion must tokenize exactly as tokenizer.json does before it is used:
# umlauts, compatibility forms the normalizer folds (ligatures, full-width letters, fractions),
# runs of whitespace, digits, punctuation, other scripts, an emoji, nothing at all. (Special-token
# text such as a literal "<mask>" in an article is the one known difference: tokenizers drops the
# space before it.)
SPM_CHECK = (
    "passage: Die Minister beschlossen, Marinemanöver zur Bekämpfung von Piraterie abzuhalten.",
    "query: Who took over NATO from Stoltenberg in October 2024?",
    "  Straße,\tÄrger  und\n\nÖl: 1.250 € (½ ﬁnal) – „Zitat“ № 7 ＡＢＣ",
    "Xi Jinping 习近平, 日本語, 한국어, Кремль 😀",
    "",
)


def write_spm(folder: Path) -> bool:
    """Convert tokenizer.json to a SentencePiece model (SPM) when it is one in JSON clothing.

    XLM-R's tokenizer (e5's) is a SentencePiece Unigram model with a precompiled normalizer; as
    SentencePiece it takes 54 MB of a serving process instead of 282. The conversion keeps the
    pieces in tokenizer.json's order, so the ids are the same, and is written only if it tokenizes
    `SPM_CHECK` exactly as tokenizer.json does; any other tokenizer stays with `tokenizers`.
    """
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2
    from tokenizers import Tokenizer

    pb: Any = sentencepiece_model_pb2  # generated protobuf classes, which mypy cannot see
    spec = json.loads((folder / TOKENIZER).read_text(encoding="utf-8"))
    model, norm = spec.get("model") or {}, spec.get("normalizer") or {}
    if model.get("type") != "Unigram" or norm.get("type") != "Precompiled" or model.get("byte_fallback"):
        return False
    kinds = pb.ModelProto.SentencePiece
    special = {"<s>": kinds.CONTROL, "<pad>": kinds.CONTROL, "</s>": kinds.CONTROL, "<unk>": kinds.UNKNOWN}
    proto = pb.ModelProto()
    for piece, score in model["vocab"]:
        p = proto.pieces.add()
        p.piece, p.score = piece, score
        p.type = special.get(piece, kinds.USER_DEFINED if piece == "<mask>" else kinds.NORMAL)
    ids = {p.piece: i for i, p in enumerate(proto.pieces)}
    t = proto.trainer_spec
    t.model_type, t.vocab_size = pb.TrainerSpec.UNIGRAM, len(proto.pieces)
    t.unk_id, t.bos_id, t.eos_id, t.pad_id = (ids.get(k, -1) for k in ("<unk>", "<s>", "</s>", "<pad>"))
    n = proto.normalizer_spec
    n.name, n.precompiled_charsmap = "nmt_nfkc", base64.b64decode(norm["precompiled_charsmap"])
    n.add_dummy_prefix = n.remove_extra_whitespaces = n.escape_whitespaces = True
    data = proto.SerializeToString()
    sp, hf = sentencepiece.SentencePieceProcessor(model_proto=data), Tokenizer.from_file(str(folder / TOKENIZER))
    if any([sp.bos_id(), *sp.encode(x), sp.eos_id()] != hf.encode(x).ids for x in SPM_CHECK):
        log.info("tokenizer.json in %s is not a plain SentencePiece model; serving keeps tokenizers", folder)
        return False
    _write(folder / SPM, lambda path: Path(path).write_bytes(data))
    return True


def write_states(folder: Path, layer: int = STATES_LAYER) -> None:
    """The fp32 graph cut after encoder layer `layer`, its output the token states (`rag.align`).

    Why a cut and not a second export: no torch is needed, and the cut graph's weights stay
    references into the same memory-mapped DATA file (the model is read without its external
    data and saved as is), so it adds 0.2 MB on disk and shares the pages a process has mapped.
    """
    import onnx

    model = onnx.load(str(folder / FP32), load_external_data=False)
    graph = model.graph
    out = f"/model/encoder/layer.{layer - 1}/output/LayerNorm/LayerNormalization_output_0"
    need, keep = {out}, []
    for node in reversed(graph.node):
        if any(o in need for o in node.output):
            keep.append(node)
            need.update(i for i in node.input if i)
    if not keep:
        raise ValueError(f"{folder / FP32} has no output {out!r} (not a BERT-style encoder?)")
    initializers = [t for t in graph.initializer if t.name in need]
    infos = [v for v in graph.value_info if v.name in need]
    del graph.node[:], graph.initializer[:], graph.value_info[:], graph.output[:]
    graph.node.extend(reversed(keep))
    graph.initializer.extend(initializers)
    graph.value_info.extend(infos)
    graph.output.append(onnx.helper.make_tensor_value_info(out, onnx.TensorProto.FLOAT, ["batch", "tokens", None]))
    _write(folder / STATES, lambda path: onnx.save(model, path))


def quantize(folder: Path) -> None:
    """Dynamic int8 weights from the fp32 export (onnxruntime.quantization)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    log.info("quantizing the ONNX model to int8 (once): %s", folder / INT8)
    _write(folder / INT8, lambda path: quantize_dynamic(str(folder / FP32), path, weight_type=QuantType.QInt8))


def ensure_export(settings: Settings, int8: bool = False, st: SentenceTransformerEmbedder | None = None) -> Path:
    """The export folder, made on first use (loads torch once; later runs never do).

    `st`, an already loaded torch embedder, saves loading the model a second time.
    """
    folder = onnx_dir(settings)
    if not (folder / META).is_file():
        if st is None:
            from rag.embed.torch import SentenceTransformerEmbedder

            st = SentenceTransformerEmbedder(settings)
        export(st, folder)
    if (folder / FP32).stat().st_size > _INLINE:
        log.info("moving the ONNX model's weights into %s (once), so they are memory-mapped", folder / DATA)
        try:
            externalize(folder)
        except Exception as exc:  # a damaged model.onnx: loading it says which folder to delete
            log.warning("could not move the weights out of %s: %s", folder / FP32, exc)
    if not (folder / STATES).is_file() and (folder / DATA).is_file():
        try:
            write_states(folder)
        except Exception as exc:  # answers then rank English questions without the alignment (logged there)
            log.warning("could not cut the token-state model from %s: %s", folder / FP32, exc)
    unsupported = folder / f"{SPM}.unsupported-{SPM_VERSION}"
    if not (folder / SPM).is_file() and not unsupported.is_file():
        try:
            if not write_spm(folder):
                unsupported.touch()  # not convertible: no second try on every start (until the conversion changes)
        except Exception as exc:  # tokenizers' own files keep working; only the memory saving is lost
            log.warning("could not convert %s to SentencePiece: %s", folder / TOKENIZER, exc)
    if int8 and not (folder / INT8).is_file():
        quantize(folder)
    return folder
