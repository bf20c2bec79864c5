"""A long text costs what a short one does: the matcher reads a capped text, and its
work is linear in what it reads (counted, not timed)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.answers import MAX_TEXT_CHARS, TOO_LONG, answer, resolve
from bot.content import Content, ContentSource
from bot.search import MAX_QUERY_CHARS, SearchIndex


class CountingDict(dict[str, Any]):
    """A dict that adds up the length of every key it is asked about."""

    looked_up = 0

    def __contains__(self, key: object) -> bool:
        CountingDict.looked_up += len(str(key))
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        CountingDict.looked_up += len(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        CountingDict.looked_up += len(key)
        return super().get(key, default)


@pytest.fixture(scope="module")
def content() -> Content:
    return ContentSource().current


def characters_looked_up(index: SearchIndex, word: str) -> int:
    index._postings = CountingDict(index._postings)
    index._prefixes = CountingDict(index._prefixes)  # type: ignore[assignment]
    CountingDict.looked_up = 0
    index._expand(word)
    return CountingDict.looked_up


@pytest.mark.parametrize("length", [10_000, 60_000])
def test_expanding_a_long_word_is_linear_in_its_length(content: Content, length: int) -> None:
    index = SearchIndex.build(content.topics.values())
    # The quadratic expansion looked up every beginning: about length² / 2 characters.
    assert characters_looked_up(index, "budget" + "s" * length) <= 4 * length


def test_a_search_reads_only_the_capped_query(content: Content) -> None:
    index = content.index
    long_tail = "certification zzzz" + "q" * 50_000
    assert [hit.document.topic_id for hit in index.search(long_tail)] == [
        hit.document.topic_id for hit in index.search("certification")
    ]
    assert MAX_QUERY_CHARS == MAX_TEXT_CHARS


def test_a_long_question_is_answered_from_its_beginning_and_says_so(content: Content) -> None:
    question = "certification " + "blabla " * 10_000
    reply = answer(question, content)
    assert reply.text.startswith(TOO_LONG)
    assert "1\u202f000 premiers caractères" in reply.text
    assert "RS6247" in reply.text  # still the certification topic
    assert TOO_LONG not in answer("certification", content).text


def test_the_command_of_a_long_text_is_still_found(content: Content) -> None:
    assert resolve("rejoindre " + "merci " * 20_000, content) == "rejoindre"
    assert resolve("a" * 60_000, content) == ""


def test_a_single_huge_word_gets_no_costly_suggestion(content: Content) -> None:
    reply = answer("x" * 60_000, content)
    assert reply.text.startswith(TOO_LONG) and "Vouliez-vous dire" not in reply.text
