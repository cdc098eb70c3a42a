"""German-aware BM25 (bm25s + Snowball German stemmer) over the indexed chunks.

Built from the chunk texts, or loaded (memory-mapped) from the copy `rag index` saves with
`rag.snapshot`, which decides whether that copy still matches the vectors.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG
_WORD = re.compile(r"\w+")
# German text, questions also in English: drop both languages' function words.
_STOP = frozenset(STOPWORDS_GERMAN) | frozenset(STOPWORDS_EN)


# Compound splitting works on stems: a long stem ("marinemanov", at least _MIN_COMPOUND letters)
# is split after its first _MIN_HEAD or more letters, and the rest counts as a word of its own when
# it has at least _MIN_TAIL letters. Shorter rests are mostly suffixes ("ung", "isch"), not words.
_MIN_HEAD, _MIN_TAIL, _MIN_COMPOUND = 3, 5, 9
# A question word may end many corpus compounds ("ausrust" → "verteidigungsausrust", …): at most
# this many are added, so one word cannot outweigh the rest of the question in BM25.
_MAX_EXPAND = 5
# An English term's German translations in the query (`rag.glossary`): the first ones the corpus
# knows, in the dictionary's order; one or two found less (python -m eval, dev English 0.878 with one).
_MAX_TRANSLATIONS = 3


def _compounds_by_tail(vocab: frozenset[str]) -> dict[str, list[str]]:
    """Map every tail of a long corpus word (at least `_MIN_TAIL` letters) to the words ending in it."""
    out: dict[str, list[str]] = {}
    for word in sorted(vocab):
        if len(word) >= _MIN_COMPOUND:
            for i in range(_MIN_HEAD, len(word) - _MIN_TAIL + 1):
                out.setdefault(word[i:], []).append(word)
    return out


_STEMMER = Stemmer.Stemmer("german")


def stems(text: str) -> set[str]:
    """Content-word stems of a text, as BM25 sees them (for sentence-level overlap)."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    return set(_STEMMER.stemWords(words)) if words else set()


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
        self._compounds = _compounds_by_tail(self._vocab)
        if texts:
            self._bm25.index([self._with_heads(toks) for toks in stemmed], show_progress=False)

    def save(self, folder: Path) -> None:
        """Write the BM25 matrix and vocabulary (bm25s' own files) into `folder`; an empty index has none."""
        if not self.size:
            raise ValueError("an empty BM25 index is not saved")
        self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        """The index `save` wrote, its matrix memory-mapped; raises when it is not one over `size` chunks.

        The stem vocabulary is BM25's own (without the empty token bm25s adds for a chunk of stop
        words only), so compound splitting and expansion work exactly as in the index that was saved.
        """
        bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        if bm25.scores["num_docs"] != size:
            raise ValueError(f"the BM25 files hold {bm25.scores['num_docs']} chunks, not {size}")
        self = cls.__new__(cls)
        self._stemmer = Stemmer.Stemmer("german")
        self.size = size
        self._bm25 = bm25
        self._vocab = frozenset(tok for tok in bm25.vocab_dict if tok)
        self._compounds = _compounds_by_tail(self._vocab)
        return self

    def tokens(self, text: str) -> list[str]:
        return self._with_heads(self._stems(text))

    def query_tokens(self, text: str, translations: Sequence[Sequence[str]] = ()) -> list[str]:
        """Question words, plus the corpus compounds that end in a word the corpus lacks on its own.

        "Ausrüstung" then finds "Verteidigungsausrüstung": the mirror image of `_with_heads`.
        `translations` (an English question's terms in German, `rag.glossary`) add the first
        `_MAX_TRANSLATIONS` of each term's translations that the corpus knows.
        """
        toks = self.tokens(text)
        toks += [c for t in toks if t not in self._vocab for c in self._compounds.get(t, ())[:_MAX_EXPAND]]
        return toks + [t for alts in translations for t in self._known(alts)]

    def _known(self, words: Sequence[str]) -> list[str]:
        """The stems of `words` the corpus knows (as a word or a compound's end), at most `_MAX_TRANSLATIONS`."""
        out: list[str] = []
        for stem in self._stems(" ".join(words)):
            if (stem in self._vocab or stem in self._compounds) and stem not in out:
                out.append(stem)
        return out[:_MAX_TRANSLATIONS]

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

    def coverage(self, query: str, translations: Sequence[Sequence[str]] = ()) -> float:
        """Share of the query's words that occur in the corpus at all.

        Near 1 for German questions, low for English ones over German articles (only names
        match), which tells the fusion how far to trust BM25 for this question. An English term
        whose translation the corpus knows counts as known.
        """
        toks = self._stems(query)
        known = sum(t in self._vocab or t in self._compounds for t in toks)
        known += sum(bool(self._known(alts)) for alts in translations)
        return min(1.0, known / len(toks)) if toks else 0.0

    def unknown_words(self, text: str) -> list[str]:
        """The text's content words (as written) that the corpus lacks, alone or as a compound's end.

        A German question about "Verteidigungshaushalt" in a corpus without the word is unlikely
        to be answerable; names and numbers are spelled alike in English questions too.
        """
        words = [w for w in _WORD.findall(text) if w.lower() not in _STOP]
        stemmed = self._stemmer.stemWords([w.lower() for w in words]) if words else []
        return [w for w, t in zip(words, stemmed, strict=True) if t not in self._vocab and t not in self._compounds]

    def search(
        self, query: str, n: int, allowed: np.ndarray | None = None, translations: Sequence[Sequence[str]] = ()
    ) -> list[tuple[int, float]]:
        """The `n` best chunks for `query`; with `allowed` (a mask over the chunks), only those."""
        toks = self.query_tokens(query, translations)
        n = min(n, self.size)
        if not toks or n == 0:
            return []
        scores = self._bm25.get_scores(toks)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)  # a score of 0 is never returned
        # Partition, then sort only the top n (by score, ties by position): a full sort of 100k
        # scores costs more than the rest of the search.
        part = np.argpartition(-scores, n - 1)[:n]
        top = part[np.lexsort((part, -scores[part]))]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
