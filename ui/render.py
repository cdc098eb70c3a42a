"""HTML for answers and sources. Every piece of document or user text is escaped here, once."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rag.types import Answer, Citation, Hit

_MARKER = re.compile(r"\[(\d+)\]")

TEXT = {
    "de": {
        "sources": "Quellen",
        "related": "Vielleicht verwandt:",
        "unsupported": "Ohne Beleg in den Quellen:",
        "no_sources": "Noch keine Quellen.",
        "link": "Artikel öffnen",
        "index_down": "Der Index ist gerade nicht erreichbar. Bitte in ein paar Sekunden noch einmal versuchen.",
    },
    "en": {
        "sources": "Sources",
        "related": "Maybe related:",
        "unsupported": "Not supported by the sources:",
        "no_sources": "No sources yet.",
        "link": "open article",
        "index_down": "The index cannot be reached right now. Please try again in a few seconds.",
    },
}


def answer_html(answer_text: str) -> str:
    """Escaped answer text whose `[n]` markers link to source n in the sources panel."""
    return _MARKER.sub(r'<a class="cite" href="#src-\1">[\1]</a>', html.escape(answer_text, quote=False))


def answer_message(answer: Answer, lang: str) -> str:
    """The chat bubble: answer, notice and unsupported claims (all escaped)."""
    parts = [answer_html(answer.text)]
    if answer.notice:
        parts.append(f"<em>{html.escape(answer.notice)}</em>")
    if answer.unsupported:
        claims = "; ".join(html.escape(c) for c in answer.unsupported)
        parts.append(f"<em>{TEXT[lang]['unsupported']} {claims}</em>")
    return "\n\n".join(parts)


def sources_html(
    hits: Sequence[Hit], citations: Sequence[Citation] = (), lang: str = "de", related: bool = False
) -> str:
    """Numbered source cards; the cited sentence of each source is wrapped in <mark>."""
    t = TEXT[lang]
    if not hits:
        return f"<p>{t['no_sources']}</p>"
    cited = {c.n: c for c in citations}
    head = t["related"] if related else t["sources"]
    cards = [_card(n, h, cited.get(n), t["link"]) for n, h in enumerate(hits, 1)]
    return f'<div class="sources"><h3>{head}</h3>{"".join(cards)}</div>'


def _card(n: int, hit: Hit, citation: Citation | None, link_text: str) -> str:
    c = hit.chunk
    m = c.meta
    title = html.escape(m.get("title") or c.doc_id)
    where = html.escape(", ".join(x for x in (m.get("outlet", ""), m.get("date", "")) if x))
    url = m.get("url", "")
    link = f' <a href="{html.escape(url)}" target="_blank" rel="noopener">{link_text}</a>' if _safe(url) else ""
    return (
        f'<div class="src{" cited" if citation else ""}" id="src-{n}"><div class="src-head"><b>[{n}] {title}</b>'
        f"{f' <span>({where})</span>' if where else ''}{link}</div><p>{_passage(hit, citation)}</p></div>"
    )


def _passage(hit: Hit, citation: Citation | None) -> str:
    """The passage, with the cited span highlighted when it lies inside this passage."""
    c = hit.chunk
    if citation is None or not (c.start <= citation.start and citation.end <= c.end):
        return html.escape(c.text)
    a, b = citation.start - c.start, citation.end - c.start
    return f"{html.escape(c.text[:a])}<mark>{html.escape(c.text[a:b])}</mark>{html.escape(c.text[b:])}"


def _safe(url: str) -> bool:
    return url.startswith(("http://", "https://"))
