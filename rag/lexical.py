"""German-aware BM25 (bm25s + Snowball German stemmer) over the indexed chunks.

Built in memory from the store's chunk texts when a retriever opens: tokenising a few thousand
passages takes well under a second, and it can never drift out of sync with the vectors.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG
_WORD = re.compile(r"\w+")
# German text, questions also in English: drop both languages' function words.
_STOP = frozenset(STOPWORDS_GERMAN) | frozenset(STOPWORDS_EN)


_MIN_HEAD, _MIN_TAIL, _MIN_COMPOUND = 3, 5, 9


class LexicalIndex:
    """BM25 over chunk texts; `search` returns (position, score) pairs, best first.

    German compounds ("Marinemanöver") also index their last part when the corpus knows it as a
    word of its own ("Manöver"), so a question about "Manöver" finds the compound.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self._stemmer = Stemmer.Stemmer("german")
        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        stemmed = [self._stems(t) for t in texts]
        self._vocab = frozenset(tok for toks in stemmed for tok in toks)
        if texts:
            self._bm25.index([self._with_heads(toks) for toks in stemmed], show_progress=False)

    def tokens(self, text: str) -> list[str]:
        return self._with_heads(self._stems(text))

    def _stems(self, text: str) -> list[str]:
        words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
        return self._stemmer.stemWords(words) if words else []

    def _with_heads(self, toks: list[str]) -> list[str]:
        """Add the longest known tail word of each compound (the compound's head in German)."""
        out = list(toks)
        for tok in toks:
            if len(tok) < _MIN_COMPOUND:
                continue
            for i in range(_MIN_HEAD, len(tok) - _MIN_TAIL + 1):
                if tok[i:] in self._vocab:
                    out.append(tok[i:])
                    break
        return out

    def search(self, query: str, n: int) -> list[tuple[int, float]]:
        toks = self.tokens(query)
        n = min(n, self.size)
        if not toks or n == 0:
            return []
        scores = self._bm25.get_scores(toks)
        top = np.argsort(-scores, kind="stable")[:n]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
