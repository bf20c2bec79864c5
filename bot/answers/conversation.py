"""One way in: a slash command, a DM, a mention and the console all end here.

Commands that need more than the content (who is asking, the store, the chat
platform) are registered by their service; everything else is `answers.answer`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from bot.answers.answer import Answer, resolve, respond
from bot.answers.budget import QuestionBudget, Verdict, slow_down
from bot.answers.commands import command_of
from bot.answers.topic_actions import action_target, topic_action
from bot.chat import CONSOLE_DIALECT, Dialect, Message, Reply, Visibility
from bot.config import DEFAULT_PRIVATE_CHANNEL
from bot.content.loader import ContentSource
from bot.speech import speak

CommandHandler = Callable[[Message, str], Awaitable[Reply]]
# Told of each question about the content and how it went (for `intra-bot unanswered`);
# called on the reply's path, so it must return at once (QuestionRecorder only counts).
Recorder = Callable[[str, Answer], None]
# How people write on a platform, by its name (`Platforms.dialect`).
Dialects = Callable[[str], Dialect]
Self_ = TypeVar("Self_")

log = logging.getLogger(__name__)

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


class RegistrationError(ValueError):
    """A command or topic handler that cannot be registered; the message is for operators."""


class Conversation:
    def __init__(
        self,
        content: ContentSource,
        recorder: Recorder | None = None,
        *,
        private_channel: str = DEFAULT_PRIVATE_CHANNEL,
        budget: QuestionBudget | None = None,
        clock: Callable[[], float] = time.monotonic,
        dialects: Dialects | None = None,
    ) -> None:
        self.content = content
        # Each reply is worded for the platform it goes to (None: the console's words).
        self._dialects = dialects
        # Each person's share of the bot (None: no limit, as in the console).
        self.budget = budget
        self._clock = clock
        self.private_pointer = PRIVATE_POINTER
        self.recorder = recorder
        self.private_channel = private_channel  # named by the help's « rejoindre » line
        self._commands: dict[str, CommandHandler] = {}

    def register(self, command: str, handler: CommandHandler) -> None:
        """Handle a command of the command table (`bot/answers/commands.py`).

        Fails (for the operator, at start-up) rather than let the command hide a content
        topic of the same name, or be one the parser and the help do not know.
        """
        if command_of(command) != command:
            raise RegistrationError(
                f"cannot register '{command}': it is not a command of bot/answers/commands.py "
                "(add it to COMMANDS so that the parser and the help know it)"
            )
        topic_id = self.content.current.aliases.get(command)
        if topic_id is not None:
            raise RegistrationError(
                f"cannot register the command '{command}': the content topic '{topic_id}' "
                "has that name; rename the topic's id or alias, or use serve_topic"
            )
        self._commands[command] = handler

    def serve_topic(self, topic_id: str, handler: CommandHandler) -> None:
        """Answer `/intra <topic_id>` with a service (the club's dates) instead of the content."""
        if topic_id not in self.content.current.topics:
            raise RegistrationError(f"cannot serve '{topic_id}': the content has no such topic")
        self._commands[topic_id] = handler

    def serve_topic_action(self, topic_id: str, action: str, handler: CommandHandler) -> None:
        """Answer `/intra <topic_id> <action>` (« club prevenez-moi », see
        bot/answers/topic_actions.py) with a service."""
        if topic_id not in self.content.current.topics or topic_action(topic_id, action) != action:
            raise RegistrationError(
                f"cannot serve '{topic_id} {action}': not a topic and action of "
                "bot/answers/topic_actions.py, or the content has no such topic"
            )
        self._commands[action_target(topic_id, action)] = handler

    async def answer_post(self, message: Message) -> Reply | None:
        """A DM or a mention, within its asker's share: the reply, the one « ralentissez »,
        or None to stay silent (the person was told and their share is not back yet)."""
        verdict = self._verdict(message)
        if verdict is Verdict.SILENT:
            return None
        if verdict is Verdict.SLOW_DOWN:
            return self._slow_down()
        return await self.respond(message)

    async def answer_command(self, message: Message) -> Reply:
        """A slash command, within its asker's share. Past it the asker is told again rather
        than left without an answer: the platform waits for one (and shows an error
        without), and only the asker sees it."""
        if self._verdict(message) is Verdict.ANSWER:
            return await self.respond(message)
        return replace(self._slow_down(), visibility=Visibility.ASKER)

    def _verdict(self, message: Message) -> Verdict:
        if self.budget is None:
            return Verdict.ANSWER
        verdict = self.budget.take(f"{message.platform}:{message.user.id}", self._clock())
        if verdict is Verdict.SLOW_DOWN:
            log.info(
                "event=question_budget_spent platform=%s user_id=%s",
                message.platform or "-",
                message.user.id,
            )
        return verdict

    def _slow_down(self) -> Reply:
        assert self.budget is not None
        return slow_down(self.budget.refill_seconds())

    def dialect(self, platform: str) -> Dialect:
        """How people write on `platform` ("" : the console, which speaks for all)."""
        return self._dialects(platform) if self._dialects is not None else CONSOLE_DIALECT

    async def respond(self, message: Message) -> Reply:
        """The reply, whatever the asker's share (the console, `intra-bot ask`, tests),
        in the words of the asker's platform (`bot.speech`)."""
        dialect = self.dialect(message.platform)
        return speak(await self._reply(message, dialect), dialect)

    async def _reply(self, message: Message, dialect: Dialect) -> Reply:
        content = self.content.current
        target = resolve(message.text, content)
        handler = self._commands.get(target)
        if handler is not None:
            reply = await handler(message, _rest(message.text))
            if target in content.topics:  # a topic with its own service: still a question
                self._record(message.text, Answer(reply, target, target, question=True))
            return reply
        # A platform names its own private channel: the help names the content's, which
        # `speak` shows as the platform names it; the console shows the configured one.
        private = DEFAULT_PRIVATE_CHANNEL if dialect.private_channel else self.private_channel
        outcome = respond(message.text, content, private_channel=private)
        self._record(message.text, outcome)
        return outcome.reply

    def _record(self, text: str, outcome: Answer) -> None:
        if outcome.question and self.recorder is not None:
            self.recorder(text, outcome)


def _rest(text: str) -> str:
    """What follows the command word: « /intra rejoindre Bonjour » -> « Bonjour »."""
    text = text.strip()
    if text.lower().startswith("/intra"):
        text = text[len("/intra") :].strip()
    return text.partition(" ")[2].strip()
