"""German news-article assistant with retrieval: ingest → chunk → embed → store → retrieve → answer.

Public API: `Assistant` (the engine), `Settings`, `RagError` and the plain types. Nothing heavy
is loaded at import time.
"""

from rag.config import Settings
from rag.errors import RagError
from rag.pipeline import Assistant
from rag.types import Answer, Chunk, Citation, Document, Hit

__all__ = ["Answer", "Assistant", "Chunk", "Citation", "Document", "Hit", "RagError", "Settings"]
