"""French analysis: the same term for what a person types and what the content says."""

from __future__ import annotations

import pytest

from bot.content.analysis import MAX_QUESTION_CHARS, MAX_TERMS, Analyzer, content_words, words

PLAIN = Analyzer()


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("coute", "coûte"),  # accents
        ("CERTIFICATIONS", "certification"),  # case, plural
        ("intrapreneures", "intrapreneur"),  # feminine plural
        ("evaluees", "évaluée"),
        ("référentes", "referent"),
    ],
)
def test_typed_and_written_forms_meet_on_one_term(typed: str, written: str) -> None:
    assert PLAIN.terms(typed) == PLAIN.terms(written)


def test_elisions_and_stop_words_are_dropped() -> None:
    assert content_words("qu'est-ce que l'oral d'évaluation ?") == ("oral", "evaluation")
    assert content_words("jusqu'où s'inscrire") == ("inscrire",)


def test_synonym_groups_map_onto_their_first_word() -> None:
    analyzer = Analyzer.with_groups(
        [["salaire", "rémunération", "paie"], ["sponsor", "commanditaire"]]
    )
    assert analyzer.terms("rémunérations") == analyzer.terms("salaire")
    assert analyzer.terms("commanditaire") == analyzer.terms("sponsor")
    assert analyzer.terms("paie") != analyzer.terms("sponsor")


def test_a_question_is_cut_to_a_constant_size() -> None:
    # What a user pastes costs no more than MAX_QUESTION_CHARS characters of work.
    assert len("".join(words("a" * 10 + " " + "b" * 10_000))) <= MAX_QUESTION_CHARS
    assert len(PLAIN.terms(" ".join(f"mot{n}" for n in range(1000)))) == MAX_TERMS


def test_content_text_is_read_whole() -> None:
    long_text = " ".join(["budget"] * 300 + ["certification"])
    assert PLAIN.content_terms(long_text)[-1] == PLAIN.term("certification")
