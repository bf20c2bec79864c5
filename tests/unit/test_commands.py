"""The one command table: the parser, the help and setup's hint all read it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.answers.answer import help_reply, resolve
from bot.answers.clashes import command_clashes
from bot.answers.commands import COMMANDS, command_of, hint_words
from bot.answers.conversation import Conversation
from bot.chat import Message, Reply, User
from bot.content.loader import ContentSource, load_content


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
    assert words == [
        "role",
        "club",
        "chercher",
        "rejoindre",
        "mes-abonnements",
        "demandes",
        "aide",
    ]
    assert "stats" not in words  # for the referents: not advertised to everyone


def test_the_help_names_the_private_channel_it_is_given() -> None:
    content = ContentSource().current
    assert "~domaine-intras-prive" in help_reply(content).text  # the configured default
    text = help_reply(content, "intras-secret").text
    [line] = [line for line in text.splitlines() if "/intra rejoindre" in line]
    assert line.endswith("~intras-secret")
    assert "domaine-intras-prive" not in text


async def test_the_conversation_help_names_its_configured_channel() -> None:
    conversation = Conversation(ContentSource(), private_channel="intras-secret")
    for text in ("aide", "", "/intra ?"):
        reply = await conversation.respond(Message(text, User("u1", "alice"), "c1"))
        assert "~intras-secret" in reply.text, text


def _with_alias(directory: Path, alias: str) -> Path:
    """The content, with `alias` added to the career topic's aliases."""
    path = directory / "carriere.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("aliases: [", f"aliases: [{alias}, ", 1), encoding="utf-8")
    return directory


async def _hidden(_message: Message, _rest: str) -> Reply:
    return Reply("hidden")


def test_a_command_named_like_a_topic_is_refused_at_registration(content_copy: Path) -> None:
    clashing = Conversation(ContentSource(_with_alias(content_copy, "rejoindre")))
    with pytest.raises(ValueError, match="the content topic 'carriere' has that name"):
        clashing.register("rejoindre", _hidden)
    assert resolve("rejoindre", clashing.content.current) == "carriere"  # the topic still answers


def test_only_commands_of_the_table_register_and_only_topics_are_served() -> None:
    conversation = Conversation(ContentSource())
    for name in ("referents", "tartiflette"):  # a topic id is not a command either
        with pytest.raises(ValueError) as refused:
            conversation.register(name, _hidden)
        assert str(refused.value) == (
            f"cannot register '{name}': it is not a command of bot/answers/commands.py "
            "(add it to COMMANDS so that the parser and the help know it)"
        )
    with pytest.raises(ValueError, match="the content has no such topic"):
        conversation.serve_topic("rejoindre", _hidden)
    conversation.register("rejoindre", _hidden)
    conversation.serve_topic("club", _hidden)
    club = asyncio.run(conversation.respond(Message("club", User("u1", "alice"), "c1")))
    assert club.text == "hidden"  # the service answers the topic, not the content


def test_check_names_a_topic_alias_that_is_a_command_with_its_line(content_copy: Path) -> None:
    assert command_clashes(load_content(content_copy)) == []
    content = load_content(_with_alias(content_copy, "Accès"))  # folded: « acces », rejoindre's
    [problem] = command_clashes(content)
    assert problem.path.name == "carriere.yaml" and problem.line == 6
    assert "« Accès » est aussi une commande (`/intra rejoindre`)" in problem.message
