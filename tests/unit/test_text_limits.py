"""The length caps of repeated user text, exactly: the limit, not one character more."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.text import defuse, inline


def test_defuse_cuts_at_the_limit_with_an_ellipsis() -> None:
    assert defuse("x" * 1000, limit=300) == "> " + "x" * 299 + "…"
    assert defuse("x" * 300, limit=300) == "> " + "x" * 300
    assert defuse("x" * 301, limit=300) == "> " + "x" * 299 + "…"


def test_defuse_cut_does_not_end_on_a_space() -> None:
    assert defuse("abc " + "y" * 10, limit=5) == "> abc…"


def test_defuse_keeps_lines_and_drops_blank_ones() -> None:
    assert defuse("  un\n\n  deux  \n") == "> un\n> deux"
    assert defuse("un   deux\ttrois") == "> un deux trois"
    assert defuse("") == "> "


def test_inline_cuts_at_the_limit_on_one_line() -> None:
    assert inline("x" * 100) == "x" * 79 + "…"
    assert inline("x" * 80) == "x" * 80
    assert inline("un\n  deux", limit=6) == "un de…"


@given(st.text(max_size=300))
def test_inline_never_shows_more_than_its_limit(text: str) -> None:
    # What the reader sees: escapes and invisible joiners are not shown.
    shown = re.sub(r"\\(.)", r"\1", inline(text, limit=40).replace("\u2060", ""))
    assert len(shown) <= 40


def test_inline_cut_does_not_end_on_a_space() -> None:
    assert inline("abc " + "y" * 10, limit=5) == "abc…"


def test_the_default_limits() -> None:
    assert defuse("x" * 600) == "> " + "x" * 499 + "…"
    assert defuse("x" * 500) == "> " + "x" * 500
    assert inline("y" * 80) == "y" * 80 and inline("y" * 81) == "y" * 79 + "…"
