"""The question sets the suite knows: the project's dev questions over `seeds/`, and the public benchmark.

A set is a question file plus the folder of articles it asks about; each is indexed into a
temporary folder of its own, never into the user's index.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eval.questions_io import Question, load_docs, load_questions
from rag.config import Settings
from rag.embed import Embedder
from rag.pipeline import Assistant

HERE = Path(__file__).parent
ROOT = HERE.parent
BENCHMARKS = HERE / "benchmarks"


@dataclass(frozen=True)
class QuestionSet:
    name: str
    questions: Path
    corpus: Path

    def load(self) -> list[Question]:
        return load_questions(self.questions, load_docs(self.corpus))


SETS = {
    "dev": QuestionSet("dev", HERE / "questions" / "dev.jsonl", ROOT / "seeds"),
    # Half of XQuAD (CC BY-SA 4.0), see benchmarks/xquad-de/README.md; 176 questions are about
    # articles left out of the corpus and should be refused.
    "xquad-de": QuestionSet(
        "xquad-de", BENCHMARKS / "xquad-de" / "questions.jsonl", BENCHMARKS / "xquad-de" / "corpus"
    ),
}


def custom(questions: Path, corpus: Path) -> QuestionSet:
    """A user's own question file over a folder of their articles."""
    return QuestionSet(questions.stem, questions, corpus)


@contextmanager
def indexed(qset: QuestionSet, settings: Settings, embedder: Embedder | None = None) -> Iterator[Assistant]:
    """An assistant over a fresh temporary index of the set's articles (removed afterwards).

    Always the embedded store: with `RAG_CHROMA_URL` set, indexing the set would replace the
    articles of the user's collection on that server.
    """
    with tempfile.TemporaryDirectory(prefix=f"rag-eval-{qset.name}-") as tmp:
        isolated = dataclasses.replace(settings, data_dir=Path(tmp), seeds_dir=qset.corpus, chroma_url="")
        a = Assistant(isolated, embedder=embedder)
        a.index(progress=False)
        yield a
