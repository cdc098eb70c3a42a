"""HTML for answers, sources and the article list. Every piece of document or user text is escaped here, once."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rag.lang import detect
from rag.types import Answer, ArticleMeta, Chunk, Citation, Hit
from ui.texts import TEXT

_MARKER = re.compile(r"\[(\d+)\]")


def answer_html(answer_text: str) -> str:
    """Escaped answer text whose `[n]` markers link to source n in the sources panel."""
    return _MARKER.sub(r'<a class="cite" href="#src-\1">[\1]</a>', html.escape(answer_text, quote=False))


def quoted_note(answer: Answer, question_lang: str) -> str:
    """ "Quoted from the German articles:" when German sentences answer an English question, else "".

    A reader who asked in English would otherwise meet German quotes without a word of why.
    """
    if question_lang == "en" and not answer.refused and detect(answer.text, default="en") == "de":
        return TEXT["en"]["quoted"]
    return ""


def answer_message(answer: Answer, lang: str, question_lang: str) -> str:
    """The chat bubble: answer, notice and unsupported claims (all escaped).

    German sentences quoted for an English question are introduced as such, in English.
    """
    parts = [answer_html(answer.text)]
    if note := quoted_note(answer, question_lang):
        parts.insert(0, f"<em>{note}</em>")
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


def articles_html(chunks: Sequence[Chunk], lang: str) -> str:
    """Before the first question: the articles in the index, newest first, with outlet, date and link."""
    t = TEXT[lang]
    docs = {c.doc_id: c.meta for c in chunks}
    order = sorted(docs, key=lambda d: (docs[d].get("date", ""), d), reverse=True)
    items = "".join(f"<li>{_head(docs[d].get('title') or d, docs[d], t['link'])}</li>" for d in order)
    return f'<div class="articles"><h3>{t["known"]}</h3><ul>{items}</ul><p>{t["known_hint"]}</p></div>'


def _head(title: str, meta: dict[str, str], link_text: str) -> str:
    """Escaped title, then "(outlet, date)" and a link to the article where the article gives them."""
    a = ArticleMeta.from_mapping(meta)
    where, url = html.escape(a.where), a.url
    link = f' <a href="{html.escape(url)}" target="_blank" rel="noopener">{link_text}</a>' if _safe(url) else ""
    return f"<b>{html.escape(title)}</b>{f' <span>({where})</span>' if where else ''}{link}"


def _card(n: int, hit: Hit, citation: Citation | None, link_text: str) -> str:
    c = hit.chunk
    head = _head(f"[{n}] {c.meta.get('title') or c.doc_id}", c.meta, link_text)
    return (
        f'<div class="src{" cited" if citation else ""}" id="src-{n}"><div class="src-head">{head}</div>'
        f"<p>{_passage(hit, citation)}</p></div>"
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
