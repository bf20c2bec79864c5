"""French typography at render time, never inside code, links or URLs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.content.typography import NBSP, NNBSP, french


def test_spaces_before_high_punctuation_and_inside_quotes() -> None:
    assert french("Quand ? Demain ! Oui ; non : peut-être") == (
        f"Quand{NNBSP}? Demain{NNBSP}! Oui{NNBSP}; non{NBSP}: peut-être"
    )
    assert french("la certification « Concevoir »") == f"la certification «{NBSP}Concevoir{NBSP}»"


def test_hours_and_percentages_do_not_break() -> None:
    assert (
        french("de 16 h à 17 h, 60 % du temps") == f"de 16{NBSP}h à 17{NBSP}h, 60{NBSP}% du temps"
    )
    assert french("entre 1 h et 1 h 30.") == f"entre 1{NBSP}h et 1{NBSP}h{NBSP}30."
    assert french("16 heures") == "16 heures"  # only the « h » symbol


def test_code_links_and_urls_are_left_alone() -> None:
    text = "Tapez `/intra aide ?` : [la page](https://x.fr/a?b=1) https://x.fr/?q=a ; fin"
    rendered = french(text)
    assert "`/intra aide ?`" in rendered
    assert "https://x.fr/?q=a" in rendered
    assert rendered.endswith(f"{NNBSP}; fin")
    assert f"`{NBSP}:" in rendered


def test_already_typeset_text_is_unchanged() -> None:
    once = french("Quand ? « oui » 16 h")
    assert french(once) == once


@given(st.text(alphabet=" ;:!?«»h%0123456789ab\u00a0\n", max_size=40))
def test_skipping_a_rule_whose_mark_is_absent_changes_nothing(text: str) -> None:
    """The substring tests before each rule are a shortcut, never a different result."""
    from bot.content.typography import _RULES

    expected = text
    for _needles, pattern, replacement in _RULES:
        expected = pattern.sub(replacement, expected)
    assert french(text) == expected
