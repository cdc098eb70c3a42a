"""Cross-lingual word coverage: how much of an English question a German sentence says.

An English question shares no stems with German articles ("pharmacy legislation" against
"Apothekengesetzgebung"), so the selection's lexical features are blind for it, and sentence
similarity alone often prefers a sentence on the topic over the one that answers. In the middle
layers of a multilingual encoder a word and its translation lie close (word aligners such as
SimAlign use that), so each content word of the question is matched with its most similar token
of the sentence and the matches are averaged: BERTScore's recall, across languages.

It costs an encoder pass over each sentence it reads (half the model, up to layer 6), so it reads
only the few sentences the selection's first stage ranks highest (`SHORTLIST`), for English
questions only. Measured with `python -m eval.fit_select` (top-1 cross-validated by article).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from rag.embed import TokenEncoder
from rag.errors import RagError

log = logging.getLogger(__name__)

# The first stage's best sentences that are aligned; the rest keep the shortlist's lowest coverage.
SHORTLIST = 6
_CACHE = 512
# Question words that carry no content (English, and German for mixed questions).
_STOP = frozenset(
    """what which who whom whose when where why how many much does did do is are was were be been the a an
    of in on at to for from by with and or as that this these those it its their his her they he she there
    than into about after before during welche welcher welches welchen welchem wer wen wem wessen wann wo
    wie viele viel warum weshalb wieso woher wohin der die das den dem des ein eine einen einem einer eines
    und oder ist sind war waren wurde wurden hat haben hatte hatten von vom zu zum zur im in an am auf aus
    mit für bei nach über unter durch als dass es sich nicht auch wird werden""".split()
)


def content(words: Sequence[tuple[str, np.ndarray]]) -> np.ndarray:
    """The token states of the content words: alphabetic, three letters or more, not a stop word."""
    rows = []
    for word, states in words:
        w = re.sub(r"\W", "", word)
        if len(w) >= 3 and w.isalpha() and w.lower() not in _STOP:
            rows.append(states)
    return np.vstack(rows) if rows else np.zeros((0, 1))


def recall(question: np.ndarray, sentence: np.ndarray) -> float:
    """Mean over the question's content tokens of the best cosine with any token of the sentence."""
    if not len(question) or not len(sentence):
        return 0.0
    return float((question @ sentence.T).max(axis=1).mean())


class Aligner:
    """Coverage of a question by sentences, alone and read with the sentence before; thread-safe."""

    def __init__(self, encoder: TokenEncoder) -> None:
        self.encoder = encoder
        self.available = True
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def coverage(self, question: str, texts: Sequence[str], before: Sequence[str | None]) -> np.ndarray | None:
        """(n, 2): each sentence's coverage of the question, and that of the sentence with the one
        before it (the answer's subject is often named there). None when the encoder cannot give
        token states (an export without the cut model): the caller ranks without them."""
        try:
            q = content(self.encoder.token_states([question], query=True)[0])
            states = self._states([*texts, *(b for b in before if b)])
        except RagError as exc:
            if self.available:
                log.warning("answers rank English questions without word alignment: %s", exc)
            self.available = False
            return None
        out = np.zeros((len(texts), 2))
        for i, (t, b) in enumerate(zip(texts, before, strict=True)):
            window = [s for s in (states[t], states[b] if b else None) if s is not None and len(s)]
            out[i] = recall(q, states[t]), recall(q, np.vstack(window) if window else states[t])
        return out

    def _states(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Every token's states of each text, cached: related questions come back to the same sentences."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        fresh: dict[str, np.ndarray] = {}
        if missing:
            for t, words in zip(missing, self.encoder.token_states(missing), strict=True):
                # float16 halves the cache (about 30 KB a sentence); the products upcast
                fresh[t] = np.vstack([s for _, s in words]).astype(np.float16) if words else np.zeros((0, 1))
        with self._lock:
            self._cache.update(fresh)
            out = {t: self._cache.get(t, fresh.get(t)) for t in texts}
            for t in dict.fromkeys(texts):
                if t in self._cache:
                    self._cache.move_to_end(t)
            while len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        return {t: v for t, v in out.items() if v is not None}
