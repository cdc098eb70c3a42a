"""A reproducible, German-like synthetic corpus for scale benchmarks, grown from the seed sentences.

Sentences of the seed articles are shuffled and recombined into new articles; numbers, person
names and places vary, so chunks differ while vocabulary and sentence length stay those of real
news text. It is not meaningful news: it exists to measure cost at 10k-100k chunks, not quality.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from rag.chunk import chunks_for
from rag.config import Settings
from rag.ingest import discover, load_document
from rag.sentences import sentences

# People and places of the seeds, swapped for invented ones half of the time.
NAMES = "Schoigu Lawrow Kishida Onodera Kono Trump Tillerson Mattis Ishiba Akiba Nukaga Rutte Suga Kim".split()
FAKE_NAMES = "Becker Hoffmann Wagner Schulz Keller Brandt Vogel Lorenz Kraus Berger Winter Hartmann Fuchs Roth".split()
PLACES = "Russland Japan China Südkorea Nordkorea Tokio Washington Peking Moskau Seoul".split()
FAKE_PLACES = "Polen Kanada Norwegen Chile Portugal Island Kenia Ghana Oslo Lissabon Ottawa Santiago".split()
MONTHS = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split()
_SWAP = re.compile(r"\b(" + "|".join(NAMES + PLACES) + r")\b")
_NUMBER = re.compile(r"\d+")
_MIN_SENTENCE = 30


def seed_sentences(seeds: Path) -> list[str]:
    """Every sentence of the seed articles long enough to be prose (not a heading or caption)."""
    out = []
    for path in discover(seeds):
        text = load_document(path).text
        out += [s for _a, _b, s in sentences(text) if len(s) >= _MIN_SENTENCE and "\n" not in s]
    if not out:
        raise ValueError(f"no sentences found in {seeds}")
    return out


def vary(sentence: str, rng: random.Random) -> str:
    """The same sentence with other numbers (same digit count) and, half the time, other names."""

    def number(m: re.Match[str]) -> str:
        digits = len(m.group())
        return str(rng.randint(10 ** (digits - 1) if digits > 1 else 0, 10**digits - 1))

    def swap(m: re.Match[str]) -> str:
        if rng.random() < 0.5:
            return m.group()
        return rng.choice(FAKE_NAMES if m.group() in NAMES else FAKE_PLACES)

    return _SWAP.sub(swap, _NUMBER.sub(number, sentence))


def articles(pool: list[str], seed: int) -> Iterator[str]:
    """An endless, seeded stream of article texts: title, date line, paragraphs of varied sentences."""
    rng = random.Random(seed)
    while True:
        picked = [vary(s, rng) for s in rng.sample(pool, k=min(len(pool), rng.randint(8, 30)))]
        title = " ".join(picked[0].split()[:6]).rstrip(".,;:")
        date = f"{rng.randint(1, 28)}. {rng.choice(MONTHS)} {rng.randint(2005, 2024)}"
        paragraphs, i = [], 0
        while i < len(picked):
            n = rng.randint(2, 5)
            paragraphs.append(" ".join(picked[i : i + n]))
            i += n
        yield f"{title}\n\n{date}\n\n" + "\n\n".join(paragraphs) + "\n"


def write_corpus(folder: Path, seeds: Path, n_chunks: int, settings: Settings, seed: int = 13) -> int:
    """Write synthetic article files into `folder` until they make at least `n_chunks` chunks.

    Chunks are counted by the real ingest and chunker, so the count is what `rag index` will see.
    Returns that count.
    """
    folder.mkdir(parents=True, exist_ok=True)
    total, stream = 0, articles(seed_sentences(seeds), seed)
    with tqdm(total=n_chunks, desc=f"synth corpus ({n_chunks:,} chunks)", unit="chunk", leave=False) as bar:
        for no in range(10**9):
            if total >= n_chunks:
                break
            path = folder / f"synth_{seed}_{no:07d}.txt"
            path.write_text(next(stream), encoding="utf-8")
            n = len(chunks_for(load_document(path), settings))
            total += n
            bar.update(n)
    return total
