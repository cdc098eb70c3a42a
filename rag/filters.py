"""Metadata filters (outlet, date range) that narrow both retrieval sides to the matching articles.

Dates are stored as ISO strings (`YYYY-MM-DD`), which sort like dates, so the range is compared
in Python over the chunks the retriever already holds; the dense side then gets a Chroma `where`
on the matching article ids and BM25 a mask of the same chunks. An index written before filters
existed therefore works unchanged (no numeric date field, no rebuild).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rag.errors import RagError
from rag.types import Chunk


def iso_date(value: str | None, name: str) -> str:
    """`YYYY-MM-DD` (or `DD.MM.YYYY`) as an ISO date string; "" for no value."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        if "." in raw:
            day, month, year = raw.split(".")
            return dt.date(int(year), int(month), int(day)).isoformat()
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        raise RagError(
            f"{name} {raw!r} is not a date.", f"Give {name} as YYYY-MM-DD (e.g. 2020-01-01) or DD.MM.YYYY."
        ) from None


@dataclass(frozen=True)
class Filter:
    """Which articles may answer: an outlet (case-insensitive) and an inclusive date range.

    An article without a date never matches a date range; an empty filter matches everything.
    """

    outlet: str = ""
    since: str = ""
    until: str = ""

    @classmethod
    def make(cls, outlet: str | None = None, since: str | None = None, until: str | None = None) -> Filter:
        """A checked filter from user input; dates are normalised to ISO."""
        f = cls((outlet or "").strip(), iso_date(since, "since"), iso_date(until, "until"))
        if f.since and f.until and f.since > f.until:
            raise RagError(f"since {f.since} is after until {f.until}.", "Swap the two dates.")
        return f

    def __bool__(self) -> bool:
        return bool(self.outlet or self.since or self.until)

    def matches(self, meta: Mapping[str, str]) -> bool:
        if self.outlet and meta.get("outlet", "").strip().casefold() != self.outlet.casefold():
            return False
        date = meta.get("date", "")
        if (self.since or self.until) and not date:
            return False
        return not (self.since and date < self.since or self.until and date > self.until)

    def docs(self, chunks: Sequence[Chunk]) -> set[str]:
        """The ids of the articles among `chunks` that match."""
        return {c.doc_id for c in chunks if self.matches(c.meta)}

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


def where(docs: set[str]) -> dict[str, Any]:
    """The Chroma `where` that keeps the chunks of `docs`."""
    return {"doc": {"$in": sorted(docs)}}
