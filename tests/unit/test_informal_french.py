"""What people type is read as the standard French the content is written in."""

from __future__ import annotations

from bot.content.analysis import content_words, words
from bot.content.informal import spelled_out, standard
from bot.content.loader import Content


def test_sms_forms_become_their_words() -> None:
    assert words("c koi un intra") == ("c", "est", "quoi", "un", "intra")
    assert words("jai deja la certif") == ("j", "ai", "deja", "la", "certif")
    assert words("cb de tps") == ("combien", "de", "temps")
    assert words("ya un club ?") == ("il", "y", "a", "un", "club")


def test_a_glued_je_is_split_before_a_consonant_only() -> None:
    assert standard("jveux") == ("je", "veux")
    assert standard("jcomprend") == ("je", "comprend")
    assert standard("jardin") == ("jardin",)  # a vowel after « j »: a word of its own
    assert standard("jo") == ("jo",)  # too short to be a glued pronoun


def test_the_sms_forms_are_no_content_words() -> None:
    # « koi » and « ki » are question words: once read, nothing is left to search.
    assert content_words("c koi ki") == ()


def test_se_is_a_startup_only_in_capitals() -> None:
    assert spelled_out("ma SE ferme") == "ma startup d'État ferme"
    assert spelled_out("nos SEs") == "nos startup d'État"
    assert spelled_out("il se demande") == "il se demande"
    assert "startup" in words("ma SE ferme")


def test_informal_questions_reach_the_fact(content: Content) -> None:
    from bot.answers.answer import answer

    assert "agents publics" in answer("c koi un intra", content).text[:600]
    assert "Concevoir un service" in answer("c koi la certif exactement", content).text[:600]
    assert "oral" in answer("loral de la certif dure cb de tps", content).text[:300].lower()
