from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.text import defuse, fold, inline, keywords


def test_fold_strips_accents_and_case() -> None:
    assert fold("Référents Carrière ÉTÉ") == "referents carriere ete"


def test_keywords_drop_stopwords() -> None:
    assert keywords("Qui sont les référents ?") == ["referents"]


def test_defuse_quotes_and_neutralises() -> None:
    out = defuse("Bonjour @channel, je suis **intra**\n> fin du quote\n@marine.purson")
    assert "@channel" not in out and "@marine.purson" not in out
    assert all(line.startswith("> ") for line in out.splitlines())
    assert "\\*\\*intra\\*\\*" in out


@given(st.text(max_size=3000))
def test_defuse_caps_length_and_every_line_is_quoted(text: str) -> None:
    out = defuse(text, limit=300)
    assert all(line.startswith("> ") for line in out.splitlines())
    # escaping may double some characters, never more
    assert len(out) <= 2 * 300 + 3 * (out.count("\n") + 1) + 300


@given(st.text(max_size=500))
def test_inline_is_single_line_without_mentions(text: str) -> None:
    out = inline(f"@here {text}")
    assert "\n" not in out
    assert "@here" not in out
