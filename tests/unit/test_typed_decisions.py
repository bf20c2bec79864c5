"""The number and reason of `accepter 12` / `refuser 12 motif`, whatever people type."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.invitations.typed import parse_number


def test_the_ways_people_write_the_number() -> None:
    assert parse_number("12") == (12, "")
    assert parse_number("  #12  ") == (12, "")
    assert parse_number("n°12 pas cette fois") == (12, "pas cette fois")
    assert parse_number("N° 7 ce salon\nest réservé") == (7, "ce salon\nest réservé")
    assert parse_number("no 3") == (3, "")
    assert parse_number("") is None
    assert parse_number("douze") is None
    assert parse_number("12abc") is None  # not a number followed by a reason


@given(st.integers(min_value=0, max_value=999_999_999), st.text())
def test_any_reason_after_a_number_comes_back_whole(number: int, reason: str) -> None:
    parsed = parse_number(f"{number} {reason}")
    assert parsed == (number, reason.strip())


@given(st.text())
def test_any_text_parses_or_is_refused_without_error(text: str) -> None:
    parsed = parse_number(text)
    assert parsed is None or (parsed[0] >= 0 and isinstance(parsed[1], str))
