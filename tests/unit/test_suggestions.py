"""« Vouliez-vous dire… » : the letter-by-letter similarity and what it suggests."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.answers.commands import COMMAND_ALIASES
from bot.answers.suggestions import similarity, suggestions
from bot.content.loader import Content

short_words = st.text(alphabet="abcdeé", max_size=14)


def common_subsequence(a: str, b: str) -> int:
    """The textbook dynamic programme, to check the bit-parallel count against."""
    row = [0] * (len(b) + 1)
    for letter in a:
        previous_diagonal, row[0] = 0, 0
        for j, other in enumerate(b, start=1):
            above = row[j]
            row[j] = previous_diagonal + 1 if letter == other else max(row[j], row[j - 1])
            previous_diagonal = above
    return row[-1]


@given(short_words, short_words)
def test_similarity_is_twice_the_longest_common_subsequence_over_both_lengths(
    a: str, b: str
) -> None:
    expected = 2 * common_subsequence(a, b) / (len(a) + len(b)) if a and b else 0.0
    assert similarity(a, b) == expected
    assert similarity(a, b) == similarity(b, a)


def test_similarity_of_a_word_with_itself_and_with_nothing_in_common() -> None:
    assert similarity("referents", "referents") == 1.0
    assert similarity("abc", "xyz") == 0.0


def test_mistyped_names_are_suggested(content: Content) -> None:
    assert suggestions("refrents", content, COMMAND_ALIASES)[0] == "referents"
    assert suggestions("certifcation", content, COMMAND_ALIASES)[0] == "certification"
    # A doubled letter in a word with repeated letters: difflib's blocks missed this one.
    assert suggestions("cheacher", content, COMMAND_ALIASES) == ["chercher"]
    assert suggestions("tartiflette", content, COMMAND_ALIASES) == []
