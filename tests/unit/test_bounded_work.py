"""A long text costs what a short one does: the matcher reads a capped text, and its
work does not grow with what it is given (counted, not timed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import bot.content.retrieval
from bot.answers.answer import TOO_LONG, answer, resolve
from bot.content.analysis import MAX_QUESTION_CHARS, MAX_TERMS, words
from bot.content.loader import Content, ContentSource


@pytest.fixture(scope="module")
def content() -> Content:
    return ContentSource().current


def test_analysis_reads_only_the_capped_text() -> None:
    head = "certification oral durée " * 5
    assert words(head + "q" * 60_000) == words((head + "q" * 60_000)[:MAX_QUESTION_CHARS])
    assert len(words("mot " * 10_000)) <= MAX_QUESTION_CHARS // 2
    assert MAX_TERMS * 10 >= MAX_QUESTION_CHARS


@pytest.mark.parametrize("length", [10_000, 60_000])
def test_typo_tolerance_does_no_work_on_a_huge_word(
    content: Content, length: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    generated = 0
    real = bot.content.retrieval._deletions

    def counting(term: str) -> Iterator[str]:
        nonlocal generated
        for variant in real(term):
            generated += len(variant)
            yield variant

    # a retriever of its own: the shared one caches what other tests searched
    retriever = type(content.retriever)(list(content.retriever.units), content.retriever.analyzer)
    monkeypatch.setattr(bot.content.retrieval, "_deletions", counting)
    retriever.search("budget" + "s" * length)
    # The one-typo variants of a word cost about its length squared: never for a long word.
    assert generated == 0
    retriever.search("remunerasion")  # while a real typo still gets them
    assert 0 < generated < 1_000


def test_a_long_question_is_answered_from_its_beginning_and_says_so(content: Content) -> None:
    question = "certification " + "blabla " * 10_000
    reply = answer(question, content)
    assert reply.text.startswith(TOO_LONG)
    assert f"{MAX_QUESTION_CHARS} premiers caractères" in reply.text
    assert "RS6247" in reply.text  # still the certification topic
    assert TOO_LONG not in answer("certification", content).text


def test_the_command_of_a_long_text_is_still_found(content: Content) -> None:
    assert resolve("rejoindre " + "merci " * 20_000, content) == "rejoindre"
    assert resolve("a" * 60_000, content) == ""


def test_a_single_huge_word_gets_no_costly_suggestion(content: Content) -> None:
    reply = answer("x" * 60_000, content)
    assert reply.text.startswith(TOO_LONG) and "Vouliez-vous dire" not in reply.text
