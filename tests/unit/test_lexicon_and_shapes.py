"""Everyday French from the frequency list; the shapes of words for the ones the content lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import lexicon
from bot.content.loader import Content
from bot.content.shapes import Shapes


def test_everyday_words_are_common_french_not_the_communitys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTRA_BOT_CACHE", str(tmp_path))
    lexicon.forget()
    try:
        words = lexicon.everyday_words()
        for common in ("temps", "horaires", "exactement", "maintenant", "clinique"):
            assert common in words, common
        for rare in ("investigation", "certification", "presentiel", "intrapreneur"):
            assert rare not in words, rare
        # Written once to the cache, then read from it: the same words.
        cached = list((tmp_path / "lexicon").glob("fr-everyday-*.txt"))
        assert len(cached) == 1
        assert "investig" not in lexicon.everyday_stems() and "temp" in lexicon.everyday_stems()
        lexicon.forget()
        assert lexicon.everyday_words() == words
    finally:
        lexicon.forget()


def test_an_unwritable_cache_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("INTRA_BOT_CACHE", str(blocked))
    lexicon.forget()
    try:
        assert "temps" in lexicon.everyday_words()
    finally:
        lexicon.forget()


def test_shapes_find_a_unit_by_a_word_two_letters_off(content: Content) -> None:
    units = content.retriever.units
    shapes = Shapes(units)
    for typed, unit_id in (("onbording", "embarquement"), ("embarqument", "embarquement")):
        scores = shapes.similarity([typed])
        best = max(scores, key=scores.__getitem__)
        assert units[best].topic_id == unit_id, typed
    assert shapes.similarity([]) == {}


def test_shapes_reorder_only_when_asked(content: Content) -> None:
    retriever = content.retriever
    plain = retriever.search("etude intraprenariat securite sociale")
    shaped = retriever.search("etude intraprenariat securite sociale", shapes=True)
    assert shaped.best is not None
    assert "EN3S" in shaped.best.unit.markdown or "Sécurité sociale" in shaped.best.unit.markdown
    # The scores shown stay the words' own.
    assert {r.unit.id: r.score for r in shaped.ranked}.items() >= {
        r.unit.id: r.score for r in plain.ranked if r.unit.id in {s.unit.id for s in shaped.ranked}
    }.items()


def test_a_cache_cut_short_is_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTRA_BOT_CACHE", str(tmp_path))
    lexicon.forget()
    try:
        full = lexicon.everyday_words()
        (cached,) = (tmp_path / "lexicon").glob("fr-everyday-*.txt")
        lines = cached.read_text(encoding="utf-8").splitlines()
        cached.write_text("\n".join(lines[:100]), encoding="utf-8")  # the header says more
        lexicon.forget()
        assert lexicon.everyday_words() == full
        assert len(cached.read_text(encoding="utf-8").splitlines()) == len(lines)
    finally:
        lexicon.forget()
