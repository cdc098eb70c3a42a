"""The answer selection stage's logic, with a deterministic embedder (quality is `python -m eval`'s job)."""

from __future__ import annotations

import numpy as np

from rag.answerable import answers
from rag.answerable import features as refusal_features
from rag.config import Settings
from rag.extractive import ExtractiveGenerator, choose
from rag.select import FEATURES, Candidate, Selector, leans_back, needs_antecedent, with_antecedent
from rag.types import Chunk, Hit

from .hash_embedder import HashEmbedder

ARTICLE = (
    "China und Russland hielten ein Manöver im Japanischen Meer ab. "
    "Dabei handelte es sich um das größte gemeinsame Manöver seit Jahren. "
    "Die Minister trafen sich am 2. November 2013 in Tokio. "
    "Die Minister trafen sich in Tokio zu Beratungen über Sicherheit."
)


def _hit(text: str, doc: str = "a", start: int = 0) -> Hit:
    return Hit(Chunk(f"{doc}:{start}", doc, start, start + len(text), text, {"outlet": "DW"}), 1.0)


def _selector(**weights: float) -> Selector:
    return Selector(HashEmbedder(), weights=weights)


def test_every_candidate_is_an_exact_span_of_its_source() -> None:
    hits = [_hit(ARTICLE[:130], start=0), _hit(ARTICLE[60:], start=60)]
    ranked = _selector(sim=1.0).rank("Wann trafen sich die Minister?", hits)
    assert ranked
    for c in ranked:
        assert ARTICLE[c.start : c.end] == c.text
    starts = [c.start for c in ranked]
    assert len(starts) == len(set(starts))  # overlapping chunks do not repeat a sentence


def test_expected_answer_type_is_a_feature() -> None:
    sents, x, _ = _selector().features("Wann trafen sich die Minister in Tokio?", [_hit(ARTICLE)])
    hit, miss = x[:, FEATURES.index("type_hit")], x[:, FEATURES.index("type_miss")]
    dated = [i for i, s in enumerate(sents) if "2013" in s.text]
    assert dated and hit[dated[0]] == 1.0 and miss[dated[0]] == 0.0
    assert all(hit[i] == 0.0 and miss[i] == 1.0 for i, s in enumerate(sents) if "2013" not in s.text)


def test_weights_decide_the_order() -> None:
    """The type feature puts the dated sentence first where similarity alone prefers its twin."""
    question = "Wann trafen sich die Minister in Tokio zu Beratungen?"
    by_sim = _selector(sim=1.0).rank(question, [_hit(ARTICLE)])
    assert "2013" not in by_sim[0].text
    typed = _selector(sim=1.0, type_hit=1.0).rank(question, [_hit(ARTICLE)])
    assert "2013" in typed[0].text


def test_a_sentence_that_leans_on_the_one_before_quotes_it_too() -> None:
    hits = [_hit(ARTICLE)]
    leaning = next(c for c in _selector(sim=1.0).rank("größte Manöver", hits) if c.text.startswith("Dabei"))
    quoted = with_antecedent(leaning, hits)
    assert quoted.text.startswith("China und Russland") and quoted.text.endswith("seit Jahren.")
    assert ARTICLE[quoted.start : quoted.end] == quoted.text
    plain = next(c for c in _selector(sim=1.0).rank("Minister", hits) if c.text.startswith("Die Minister"))
    assert with_antecedent(plain, hits) is plain


def test_since_then_both_countries_quotes_who_the_two_are() -> None:
    """The flagship question's sentence: "Seitdem haben beide Länder …" names no country itself."""
    text = (
        "Moskau und Peking haben ihre Beziehungen in den vergangenen Jahren vertieft. "
        "Seitdem haben beide Länder mehrere gemeinsame Militärübungen abgehalten. "
        "Nach Angaben Putins handelte es sich dabei um das größte gemeinsame Manöver seit Jahrzehnten."
    )
    hits = [_hit(text)]
    last = next(c for c in _selector(sim=1.0).rank("Manöver", hits) if c.text.startswith("Nach Angaben"))
    assert with_antecedent(last, hits).text == text  # two steps back: "dabei", then "beide Länder"


def test_a_pronoun_subject_after_the_verb_quotes_who_it_is() -> None:
    """ "Übernommen hatte er es …": who took over, the sentence before says; "sagte, er …" names him itself."""
    text = (
        "Der Besuch war Ruttes erste Japan-Reise als NATO-Generalsekretär. "
        "Übernommen hatte er es im Oktober von seinem Vorgänger Jens Stoltenberg."
    )
    hits = [_hit(text)]
    took = next(c for c in _selector(sim=1.0).rank("Stoltenberg", hits) if c.text.startswith("Übernommen"))
    assert with_antecedent(took, hits).text == text
    assert needs_antecedent("Im Oktober übernahm sie das Amt.")
    assert not needs_antecedent("Der Minister sagte, er werde kommen.")
    assert not needs_antecedent("Zwei Tage lang hielt sich Rutte in Japan auf.")
    assert not leans_back("Übernommen hatte er es im Oktober.")  # the scorer's feature stays as fitted


def _cand(source: int, doc: str, start: int, score: float, axis: int) -> Candidate:
    vec = np.zeros(8)
    vec[axis] = 1.0
    return Candidate(source, doc, start, start + 10, f"s{source}", score, vec)


def test_choose_puts_the_best_first_and_draws_on_other_articles() -> None:
    ranked = [_cand(2, "b", 50, 5.0, 0), _cand(1, "a", 0, 4.8, 1), _cand(3, "b", 10, 4.5, 2), _cand(4, "c", 0, 1.0, 3)]
    picked = choose(ranked, limit=4, margin=1.0)
    assert picked[0].source == 2  # the best sentence leads, though another of its article comes earlier
    assert [c.source for c in picked] == [2, 3, 1]  # its article's other sentence next, then article a
    assert all(c.source != 4 for c in picked)  # far below the best: left out


def test_choose_skips_near_duplicates_and_honours_the_limit() -> None:
    ranked = [_cand(1, "a", 0, 5.0, 0), _cand(2, "b", 0, 4.9, 0), _cand(3, "c", 0, 4.8, 1)]
    assert [c.source for c in choose(ranked, limit=4)] == [1, 3]
    assert len(choose(ranked, limit=1)) == 1
    assert choose([], limit=3) == []


def test_the_sentence_next_to_the_best_joins_its_quote() -> None:
    """ "Die Spanier benannten das Fort in San Mateo um." answers what the sentence before it sets up:
    a near-best sentence of the same source at most one sentence away is quoted with it as one
    exact span, one [n] per quote; a sentence of that source further away is not."""
    text = (
        "Am 20. September 1565 griff eine spanische Truppe Fort Caroline an. "
        "Die Spanier benannten das Fort in San Mateo um. "
        "Die Stadt wuchs im 19. Jahrhundert rasch. "
        "Fort Caroline war eine französische Siedlung."
    )
    hits = [_hit(text, start=100)]
    said = ["Am 20.", "Die Spanier", "Die Stadt", "Fort Caroline war"]

    def cand(i: int, score: float) -> Candidate:
        s = text.index(said[i])
        e = text.index(". ", s + 8) + 1 if i < 3 else len(text)
        vec = np.zeros(8)
        vec[i] = 1.0
        return Candidate(1, "a", s + 100, e + 100, text[s:e], score, vec)

    generator = ExtractiveGenerator(Settings(answer_sentences=4, answer_margin=2.0), HashEmbedder())
    answer = "".join(generator.generate("What was Fort Caroline renamed to?", hits, "en", [cand(0, 5.0), cand(1, 4.5)]))
    assert (
        "1565 griff eine spanische Truppe Fort Caroline an. Die Spanier benannten das Fort in San Mateo um. [1]"
        in answer
    )
    assert answer.count("[1]") == 1
    gap = "".join(generator.generate("Fort Caroline?", hits, "en", [cand(0, 5.0), cand(2, 4.9)]))
    assert "Fort Caroline an. Die Spanier benannten das Fort in San Mateo um. Die Stadt wuchs" in gap  # one between
    far = "".join(generator.generate("Fort Caroline?", hits, "en", [cand(0, 5.0), cand(3, 4.9)]))
    assert "Siedlung" not in far and far.count("[1]") == 1  # two between: too far


def test_refusal_reads_names_and_words_the_corpus_lacks() -> None:
    best = Candidate(1, "a", 0, 10, "s", 2.0, np.zeros(1), tuple(0.5 for _ in FEATURES))
    corpus = {"japan", "verteidigung", "minister"}

    def unknown(q: str) -> list[str]:
        return [w for w in q.strip("?").split()[1:] if w.lower() not in corpus]

    de_q, en_q = "Wie hoch ist Japans Verteidigungshaushalt?", "What did Kim Jong Un say?"
    de = refusal_features(de_q, "de", 0.85, best, unknown(de_q))
    en = refusal_features(en_q, "en", 0.85, best, unknown(en_q))
    assert de[6] >= 1 and de[7] >= 1  # an unknown German word, and it is capitalised
    assert en[6] == 0 and en[7] == 3  # English words do not count, names do
    weights = {"unknown_names": -2.0, "bias": 1.0, "threshold": 0.5}
    assert not answers("What did Kim Jong Un say?", "en", 0.85, [best], unknown, weights)
    assert answers("What did the minister say?", "en", 0.85, [best], unknown, weights)


def test_a_year_no_article_mentions_refuses() -> None:
    """ "What is Japan's defence budget for 2026?": the articles cannot answer about a year they never name."""
    best = Candidate(1, "a", 0, 10, "s", 2.0, np.zeros(1), tuple(0.5 for _ in FEATURES))
    corpus = {"japan", "defence", "budget", "2025"}

    def unknown(q: str) -> list[str]:
        return [w for w in q.strip("?").replace("'s", "").split()[1:] if w.lower() not in corpus]

    weights = {"bias": 5.0, "threshold": 0.5}  # the model alone would answer
    assert answers("What is Japan's defence budget for 2025?", "en", 0.85, [best], unknown, weights)
    assert not answers("What is Japan's defence budget for 2026?", "en", 0.85, [best], unknown, weights)
    assert answers("What is Japan's defence budget for 20260?", "en", 0.85, [best], unknown, weights)  # not a year
