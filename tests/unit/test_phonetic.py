"""Words written as heard: found by their sound when no letter-level typo explains them."""

from __future__ import annotations

import pytest

from bot.answers.answer import answer
from bot.content.loader import Content
from bot.content.phonetic import sound


@pytest.mark.parametrize(
    ("heard", "written"),
    [
        ("sertificassion", "certification"),  # c before i is s; t before ion is s
        ("dossie", "dossier"),  # « er » at the end is « é »
        ("telefone", "telephone"),  # ph is f
        ("referan", "referent"),  # an and en are one nasal; the final t is not said
        ("jurit", "jury"),  # y is i
        ("enbarquemen", "embarquement"),
        ("acueil", "accueil"),  # a doubled letter sounds once
        ("reconu", "reconnu"),  # and « nn » after o is no nasal
        ("resulta", "resultat"),
    ],
)
def test_a_word_and_its_spelling_as_heard_share_a_sound(heard: str, written: str) -> None:
    assert sound(heard) == sound(written)


@pytest.mark.parametrize(
    ("one", "other"),
    [("club", "clair"), ("session", "saison"), ("referent", "reference"), ("dossier", "dose")],
)
def test_words_said_differently_do_not(one: str, other: str) -> None:
    assert sound(one) != sound(other)


def test_a_phonetic_spelling_finds_the_content_word(content: Content) -> None:
    retriever = content.retriever
    term = retriever.analyzer.term("sertificassion")
    assert term not in retriever.postings  # no letter-level typo explains it either
    found, _ = retriever._expand("sertificassion", term)
    assert [known for known, _ in found] == [retriever.analyzer.term("certification")]


def test_a_dictionary_word_is_never_read_as_another_by_its_sound(content: Content) -> None:
    retriever = content.retriever
    assert "reference" in retriever.everyday or "references" in retriever.everyday
    assert retriever._sounding("maison") == ()  # an everyday word, not a misspelling
    assert retriever._sounding("fer") == ()  # too short: « fer », « faire », « fers »…


def test_questions_written_as_heard_reach_the_fact(content: Content) -> None:
    assert "financ" in answer("sa coute conbien la sertif", content).text[:600]
    dossier = answer("le dossié de la sertificassion, sa prend conbien de tan ?", content)
    assert "4 à 5" in dossier.text[:600].replace("\u00a0", " ")
