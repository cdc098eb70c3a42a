"""The peer baseline: the plain LangChain pipeline most tutorials build, over the same local model.

RecursiveCharacterTextSplitter (same size and overlap as ours) → HuggingFaceEmbeddings (the same
model folder, the same `query: ` / `passage: ` prompts) → langchain_chroma.Chroma (cosine). No
cleaning, no BM25, no answer step: it is the floor a framework gives for free.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.ingest import discover, read_text
from rag.provision import model_dir

COLLECTION = "bench"
INSTALL_HINT = 'LangChain peer baseline needs the bench extra: pip install -e ".[bench]" (or pass --no-peer)'


def model_path(settings: Settings | None = None) -> str:
    """The same model folder our embedder loads (a hub name if RAG_EMBED_MODEL says so)."""
    s = settings or Settings.from_env()
    return s.embed_model or str(model_dir(s.cache_dir))


def embeddings(settings: Settings | None = None) -> Any:
    """HuggingFaceEmbeddings with e5's prompts and normalisation, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError as exc:
        raise SystemExit(INSTALL_HINT) from exc
    s = settings or Settings.from_env()
    return HuggingFaceEmbeddings(
        model_name=model_path(s),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "prompt": "passage: ", "batch_size": s.batch_size},
        query_encode_kwargs={"normalize_embeddings": True, "prompt": "query: "},
    )


def open_store(data_dir: Path, embedding: Any = None) -> Any:
    """A LangChain Chroma store persisted in `data_dir` (created if missing)."""
    try:
        from langchain_chroma import Chroma
    except ImportError as exc:
        raise SystemExit(INSTALL_HINT) from exc
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    return Chroma(
        collection_name=COLLECTION,
        embedding_function=embedding if embedding is not None else embeddings(),
        persist_directory=str(data_dir),
        collection_metadata={"hnsw:space": "cosine"},
    )


def index_folder(folder: Path, data_dir: Path, embedding: Any, settings: Settings) -> int:
    """Read, split, embed and store every article file the way a LangChain tutorial does; returns chunks."""
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)
    docs = [Document(page_content=read_text(p), metadata={"source": p.name}) for p in discover(folder)]
    chunks = splitter.split_documents(docs)
    open_store(data_dir, embedding).add_documents(chunks)
    return len(chunks)
