"""Follow-up questions: turn "Und was sagte Schoigu dazu?" into a question retrieval can answer.

Without an LLM the rewrite is deterministic: a follow-up (it starts with "und"/"and", or leans on
a pronoun such as "dazu", "er", "that") is searched together with the previous question, whose
words carry the topic the follow-up refers to. An LLM generator may offer a better `rewrite`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from rag.generate import Generator, GeneratorUnavailable, Turn

log = logging.getLogger(__name__)

_OPENERS = re.compile(r"^\s*(und|aber|also|and|but|so|what about|how about|was ist mit|wie steht es mit)\b", re.I)
_ANAPHORA = frozenset(
    """
    dazu darüber davon dabei damit daran dafür dagegen dort damals er sie es ihm ihn ihr ihnen dies
    diese dieser dieses deren dessen jene it they them that this those there he she his her their
    then
    """.split()
)
_WORD = re.compile(r"\w+")
_SHORT = 12  # words; longer questions usually stand on their own


def is_follow_up(question: str) -> bool:
    words = [w.lower() for w in _WORD.findall(question)]
    return bool(_OPENERS.match(question)) or (len(words) <= _SHORT and any(w in _ANAPHORA for w in words))


def standalone(question: str, history: Sequence[Turn], generator: Generator | None = None) -> str:
    """The question to retrieve with: unchanged, rewritten by the LLM, or joined to the last one."""
    if not history or not is_follow_up(question):
        return question
    rewrite = getattr(generator, "rewrite", None)
    if rewrite is not None:
        try:
            rewritten = str(rewrite(question, history)).strip()
            if rewritten:
                return rewritten
        except GeneratorUnavailable as exc:
            log.warning("LLM rewrite failed, using the deterministic one: %s", exc.message)
    return f"{history[-1].question} {question}"
