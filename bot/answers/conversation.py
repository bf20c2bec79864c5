"""One way in: a slash command, a DM, a mention and the console all end here.

Commands that need more than the content (who is asking, the store, the chat
platform) are registered by their service; everything else is `answers.answer`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from bot.answers.answer import Answer, resolve, respond
from bot.chat import Message, Reply, Visibility
from bot.content.loader import ContentSource

CommandHandler = Callable[[Message, str], Awaitable[Reply]]
# Told of each question about the content and how it went (for `intra-bot unanswered`).
Recorder = Callable[[str, Answer], Awaitable[None]]
Self_ = TypeVar("Self_")

# What the others in a channel see when the bot answers a mention privately.
PRIVATE_POINTER = Reply("🔒 Je vous ai répondu en message privé.")


def asker_only(
    handler: Callable[[Self_, Message, str], Awaitable[Reply]],
) -> Callable[[Self_, Message, str], Awaitable[Reply]]:
    """Mark every reply of a command as seen by its asker only (`Visibility.ASKER`)."""

    @functools.wraps(handler)
    async def private(self: Self_, message: Message, rest: str) -> Reply:
        return replace(await handler(self, message, rest), visibility=Visibility.ASKER)

    return private


class Conversation:
    def __init__(self, content: ContentSource, recorder: Recorder | None = None) -> None:
        self.content = content
        self.private_pointer = PRIVATE_POINTER
        self.recorder = recorder
        self._commands: dict[str, CommandHandler] = {}

    def register(self, command: str, handler: CommandHandler) -> None:
        self._commands[command] = handler

    async def respond(self, message: Message) -> Reply:
        content = self.content.current
        target = resolve(message.text, content)
        handler = self._commands.get(target)
        if handler is not None:
            reply = await handler(message, _rest(message.text))
            if target in content.topics:  # a topic with its own service: still a question
                await self._record(message.text, Answer(reply, target, target, question=True))
            return reply
        outcome = respond(message.text, content)
        await self._record(message.text, outcome)
        return outcome.reply

    async def _record(self, text: str, outcome: Answer) -> None:
        if outcome.question and self.recorder is not None:
            await self.recorder(text, outcome)


def _rest(text: str) -> str:
    """What follows the command word: « /intra rejoindre Bonjour » -> « Bonjour »."""
    text = text.strip()
    if text.lower().startswith("/intra"):
        text = text[len("/intra") :].strip()
    return text.partition(" ")[2].strip()
