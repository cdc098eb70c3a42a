"""Question files: JSON lines, one object with a "question" string a line (README, "Question files").

The one reader for `rag search/ask --questions`, the evaluation suite and the benchmark.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.errors import RagError


def numbered_questions(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-empty line; a broken line is reported with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"Cannot read the question file {path}: {exc}", "Pass a UTF-8 JSON-lines file.") from exc
    items = []
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RagError(f"{path}:{no} is not valid JSON: {exc.msg}.", "One JSON object per line.") from exc
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise RagError(f'{path}:{no} has no "question" string.', 'See README, "Question files".')
        items.append((no, item))
    return items


def read_questions(path: Path) -> list[dict[str, Any]]:
    """The objects of a question file, in order."""
    return [item for _, item in numbered_questions(path)]
