"""How `/intra <texte>` is read: the command word, its prefix and punctuation, short questions."""

from __future__ import annotations

from bot.answers.answer import MAX_WORDS_FOR_TOPIC, answer, resolve
from bot.content.loader import Content


def test_each_kind_of_text_resolves_to_its_command_or_topic(content: Content) -> None:
    assert resolve("", content) == "aide"
    assert resolve("   ", content) == "aide"
    assert resolve("aide", content) == "aide"
    assert resolve("help", content) == "aide"
    assert resolve("chercher budget", content) == "chercher"
    assert resolve("rejoindre", content) == "rejoindre"
    assert resolve("club", content) == "club"
    assert resolve("qui sont les référents ?", content) == "referents"
    assert resolve("zzz blabla", content) == ""


def test_the_slash_prefix_and_punctuation_around_the_command_are_ignored(
    content: Content,
) -> None:
    for typed in ("/intra club", "/INTRA Club", "  /intra   club  ", "club ?", "«club»", "club!"):
        assert resolve(typed, content) == "club", typed
    assert resolve("aide?", content) == "aide"
    assert answer("/intra club", content) == answer("club", content)
    assert answer("/Intra aide", content) == answer("aide", content)


def test_a_short_question_names_its_topic_a_long_one_is_a_search(content: Content) -> None:
    # stop words only: the count of words alone decides (other words would make it a search)
    filler = ["le", "la", "les", "de", "du", "des", "et", "ou", "un"]
    at_most = " ".join([*filler[: MAX_WORDS_FOR_TOPIC - 1], "club"])
    too_long = " ".join([*filler[:MAX_WORDS_FOR_TOPIC], "club"])
    assert resolve(at_most, content) == "club"
    assert resolve(too_long, content) == ""


def test_a_question_naming_two_topics_is_a_search(content: Content) -> None:
    assert resolve("le club et la certification", content) == ""


def test_a_several_word_alias_names_its_topic(content: Content) -> None:
    assert resolve("qui contacter ?", content) == "referents"
    assert resolve("la fiche metier svp", content) == "role"
