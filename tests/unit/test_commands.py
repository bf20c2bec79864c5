"""The one command table: the parser, the help and setup's hint all read it."""

from __future__ import annotations

from bot.answers.answer import help_reply, resolve
from bot.answers.commands import COMMANDS, command_of, hint_words
from bot.content.loader import ContentSource


def test_every_alias_of_every_command_resolves_to_it() -> None:
    content = ContentSource().current
    for command in COMMANDS:
        for alias in command.aliases:
            assert command_of(alias) == command.name
            if alias != "?":
                assert resolve(f"/intra {alias}", content) == command.name


def test_the_help_lists_each_command_with_a_usage() -> None:
    text = help_reply(ContentSource().current).text
    for command in COMMANDS:
        if command.usage:
            assert command.usage.split()[0] in text


def test_the_hint_names_the_topics_then_the_commands_and_help_last() -> None:
    words = hint_words(["role", "club"])
    assert words == ["role", "club", "chercher", "rejoindre", "demandes", "aide"]
    assert "stats" not in words  # for the referents: not advertised to everyone
