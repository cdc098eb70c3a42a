"""Setting up, the one path for `rag setup` / `rag start` and `python -m ui`: models, then the index.

The offline embedding model is built only when `RAG_EMBED_MODEL` names none; the local LLM only
when asked for (`rag setup --llm`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from rag import glossary
from rag.index import IndexReport
from rag.pipeline import Assistant


@dataclass(frozen=True)
class SetUp:
    """What a set-up made ready: the embedding model, the LLM if asked for, the index if updated."""

    model: str
    llm: Path | None
    report: IndexReport | None


def set_up(
    assistant: Assistant, force: bool = False, llm: str = "", update_index: bool = True, progress: bool = False
) -> SetUp:
    """Provision what is missing, then bring the index in line with the articles folder.

    `force` rebuilds the model folder and its ONNX export (made from the folder, so both go);
    `llm` names a local model of `rag.provision_llm.MODELS` to provision as well.
    """
    from rag import provision
    from rag.provision_onnx import onnx_dir

    settings = assistant.settings
    if force:
        shutil.rmtree(onnx_dir(settings), ignore_errors=True)
    model = settings.embed_model or str(provision.provision(settings.cache_dir, force=force))
    gguf = None
    if llm:
        from rag.provision_llm import provision_llm

        gguf = provision_llm(settings.cache_dir, model=llm)
    report = assistant.index(progress=progress) if update_index else None
    glossary.load(settings.glossary, settings.cache_dir)  # its table, now rather than at the first English question
    return SetUp(model, gguf, report)
