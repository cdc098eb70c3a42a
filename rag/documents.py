"""Add, list and remove articles while a server runs: files go to the articles folder, then `index`.

Every change is an ordinary indexing run of the whole folder (`Assistant.index`: writer lock,
collection lease, new chunks before old ones go), so `rag index` and the index always agree.
A file is checked (name, type, size, text) before it enters the folder, enters it under its own
name only (never over another file), and leaves it again when indexing does not take it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import IndexDamaged, RagError, StoreUnavailable
from rag.ingest import SUFFIXES, discover, load_document

if TYPE_CHECKING:
    from rag.pipeline import Assistant

log = logging.getLogger(__name__)
MAX_NAME = 150
# One change to the articles folder at a time in this process; other processes meet the writer lock.
_WRITE = threading.Lock()


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


@dataclass
class Outcome:
    """What became of one uploaded file: `code` is "" when it was indexed, else why not (see ui.texts)."""

    name: str
    doc_id: str = ""
    code: str = ""
    detail: str = ""  # the extractor's or indexer's own words, or the other article's id
    chunks: int = 0

    @property
    def ok(self) -> bool:
        return not self.code


@dataclass(frozen=True)
class Article:
    doc_id: str
    file: str  # path inside the articles folder; "" when the file is gone but chunks remain
    title: str = ""
    outlet: str = ""
    date: str = ""
    chunks: int = 0


@dataclass
class Limits:
    max_bytes: int
    max_files: int
    types: tuple[str, ...] = field(default_factory=lambda: tuple(sorted(SUFFIXES)))


def limits(assistant: Assistant) -> Limits:
    s = assistant.settings
    return Limits(int(s.upload_max_mb * 1_000_000), s.upload_max_files)


def name_problem(name: str) -> str:
    """Why `name` cannot be an article's file name ("name" or "type"), or "" when it can.

    Only a bare file name is taken: anything with a folder part ("../x.txt", "a/b.md", "C:\\x"),
    control characters or a leading dot is refused rather than cut down to something else.
    """
    if (
        not name
        or len(name) > MAX_NAME
        or any(ch in name for ch in "/\\:")
        or name.startswith(".")
        or not all(ch.isprintable() for ch in name)
        or not Path(name).stem.strip()
    ):
        return "name"
    return "" if Path(name).suffix.lower() in SUFFIXES else "type"


def list_articles(assistant: Assistant) -> list[Article]:
    """The indexed articles with their metadata, chunk count and file, sorted by id."""
    try:
        chunks = assistant.retriever.chunks  # follows indexing runs of other processes
    except (StoreUnavailable, IndexDamaged):
        raise
    except RagError:  # no index or an empty one
        chunks = []
    files = _files(assistant.settings.seeds_dir)
    by_doc: dict[str, Article] = {}
    for c in chunks:
        a = by_doc.get(c.doc_id)
        m = c.article
        by_doc[c.doc_id] = Article(
            c.doc_id, files.get(c.doc_id, ""), m.title, m.outlet, m.date, (a.chunks if a else 0) + 1
        )
    return [by_doc[d] for d in sorted(by_doc)]


def _files(folder: Path) -> dict[str, str]:
    """doc id → file path relative to the articles folder."""
    try:
        return {p.stem: str(p.relative_to(folder)) for p in discover(folder, {})}
    except RagError:
        return {}


def add(assistant: Assistant, uploads: Sequence[Upload]) -> list[Outcome]:
    """Check, store and index `uploads`; one outcome per file, in order. Nothing indexed is lost."""
    lim = limits(assistant)
    if len(uploads) > lim.max_files:
        raise RagError(
            f"{len(uploads)} files were sent; at most {lim.max_files} are taken at once.",
            "Send fewer files per request, or raise RAG_UPLOAD_MAX_FILES.",
        )
    seeds = assistant.settings.seeds_dir
    outcomes = [Outcome(unicodedata.normalize("NFC", u.name or "")) for u in uploads]
    with _WRITE, _staging(assistant.settings.data_dir) as stage:
        seeds.mkdir(parents=True, exist_ok=True)
        taken = set(_files(seeds)) | {a.doc_id for a in list_articles(assistant)}
        placed: dict[int, Path] = {}
        for i, (up, out) in enumerate(zip(uploads, outcomes, strict=True)):
            out.code = _check(up, out.name, lim, taken)
            if out.code:
                continue
            out.doc_id = Path(out.name).stem
            staged = stage / out.name
            staged.write_bytes(up.data)
            try:
                load_document(staged)  # a scanned PDF or broken file never enters the folder
            except RagError as exc:
                out.code, out.detail = "unreadable", exc.message
                continue
            try:
                placed[i] = _place(staged, seeds / out.name)
            except FileExistsError:
                out.code, out.detail = "exists", out.doc_id
                continue
            taken.add(out.doc_id)
        if placed:
            _index(assistant, outcomes, placed)
    return outcomes


def _check(up: Upload, name: str, lim: Limits, taken: set[str]) -> str:
    if problem := name_problem(name):
        return problem
    if len(up.data) > lim.max_bytes:
        return "size"
    if not up.data.strip():
        return "empty"
    if Path(name).stem in taken:
        return "exists"
    return ""


def _index(assistant: Assistant, outcomes: list[Outcome], placed: dict[int, Path]) -> None:
    """Index the folder with the new files; take back every file the run did not index."""
    try:
        report = assistant.index(progress=False)
    except RagError as exc:  # another indexing run, or the store is down: the index is as before
        for i, path in placed.items():
            path.unlink(missing_ok=True)
            outcomes[i].code = "busy" if "Another indexing run" in exc.message else "failed"
            outcomes[i].detail = exc.message
        return
    counts = {a.doc_id: a.chunks for a in list_articles(assistant)}
    for i, path in placed.items():
        out = outcomes[i]
        if out.doc_id in report.duplicates:
            out.code, out.detail = "duplicate", report.duplicates[out.doc_id]
        elif str(path) in report.failed:
            out.code, out.detail = "unreadable", report.failed[str(path)]
        else:
            out.chunks = counts.get(out.doc_id, 0)
            continue
        path.unlink(missing_ok=True)  # it never had chunks: nothing to re-index


def remove(assistant: Assistant, doc_id: str) -> Article:
    """Delete an article's file (and its NAME.meta.json) and its chunks; unknown ids raise `KeyError`."""
    with _WRITE:
        found = next((a for a in list_articles(assistant) if a.doc_id == doc_id), None)
        seeds = assistant.settings.seeds_dir
        files = [p for p in discover(seeds, {}) if p.stem == doc_id]
        if found is None and not files:
            raise KeyError(doc_id)
        moved = [(p, p.with_name(f".{p.name}.{uuid.uuid4().hex[:8]}.deleting")) for p in files]
        for path, aside in moved:  # out of the folder's view, yet back in place if indexing fails
            path.rename(aside)
        try:
            assistant.index(progress=False)
        except RagError:
            for path, aside in moved:
                aside.rename(path)
            raise
        for path, aside in moved:
            aside.unlink(missing_ok=True)
            path.with_suffix(".meta.json").unlink(missing_ok=True)
    return found or Article(doc_id, str(files[0].relative_to(seeds)))


def _place(staged: Path, target: Path) -> Path:
    """Copy `staged` to `target` without ever overwriting it or showing a half-written file."""
    part = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")  # no article suffix: not indexed
    shutil.copyfile(staged, part)
    try:
        os.link(part, target)  # fails when the name is taken, also by a file made this instant
    finally:
        part.unlink(missing_ok=True)
    return target


@contextlib.contextmanager
def _staging(data_dir: Path) -> Iterator[Path]:
    data_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="upload-", dir=data_dir))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)
