from __future__ import annotations

import re

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


def _shown(out: str) -> str:
    """What a reader sees of a defused quote: no quote marks, escapes or invisible joiners."""
    unquoted = "\n".join(line.removeprefix("> ") for line in out.split("\n"))
    return re.sub(r"\\(.)", r"\1", unquoted.replace("\u2060", ""))


@given(st.text(max_size=3000))
def test_defuse_caps_length_and_every_line_is_quoted(text: str) -> None:
    out = defuse(text, limit=300)
    assert all(line.startswith("> ") for line in out.splitlines())
    # The limit is on what the reader sees: escapes and quote marks are not shown.
    assert len(_shown(out)) <= 300
    if len(text) > 300 and not any(c.isspace() for c in text):  # nothing to normalise
        assert len(_shown(out)) == 300 and _shown(out).endswith("…")


@given(st.text(max_size=500))
def test_inline_is_single_line_without_mentions(text: str) -> None:
    out = inline(f"@here {text}")
    assert "\n" not in out
    assert "@here" not in out
