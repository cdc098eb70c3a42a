"""German sentence splitting: ordinals, abbreviations, quotes, headings on their own line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rag.lang import detect
from rag.sentences import sentences, split


def test_ordinal_dates_abbreviations_and_quotes() -> None:
    text = (
        'Am 2. November 2013 trafen sich die Minister in Tokio. Dr. Müller sagte: "Wir sind bereit." '
        "Es folgten z. B. Gespräche über die Senkaku-Inseln. Das 3. Treffen fand im Jan. 2014 statt! "
        "US-Präsident J. Biden kam im Jahr 2013. Danach nicht mehr.\nÜberschrift ohne Punkt\nLetzter Satz."
    )
    assert [s for *_, s in sentences(text)] == [
        "Am 2. November 2013 trafen sich die Minister in Tokio.",
        'Dr. Müller sagte: "Wir sind bereit."',
        "Es folgten z. B. Gespräche über die Senkaku-Inseln.",
        "Das 3. Treffen fand im Jan. 2014 statt!",
        "US-Präsident J. Biden kam im Jahr 2013.",
        "Danach nicht mehr.",
        "Überschrift ohne Punkt",
        "Letzter Satz.",
    ]


@given(st.text(alphabet=st.sampled_from(list('ab AB.!?\n"“„12 z')), max_size=200))
def test_spans_always_point_into_the_text(text: str) -> None:
    spans = split(text)
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False))
    assert all(text[s:e] == text[s:e].strip() for s, e in spans)


def test_language_detection() -> None:
    assert detect("Welche Länder hielten Manöver ab?") == "de"
    assert detect("Which countries held maneuvers?") == "en"
    assert detect("Who represented Russia at the talks in Tokyo?") == "en"
    assert detect("Und was sagte Schoigu dazu?") == "de"
    assert detect("Schoigu?") == "de"  # no evidence either way: the corpus language
    assert detect("In welchem Jahr wurde die NATO gegründet?") == "de"  # "in" alone is no English
