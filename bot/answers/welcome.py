"""Who is welcomed, once, and with what; and the console's greeting.

A person who joins the community's public channel gets the welcome message of
`content/messages.yaml` in a direct message, once: the outbox row keyed by
`welcome_key` is the record that they were welcomed. Never the bot itself, never
another bot (the adapter knows who is a bot), never when the welcome is disabled.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.chat import CONSOLE_DIALECT, Dialect, Reply
from bot.content.loader import Content
from bot.speech import speak

# The outbox kind of a welcome. The name predates the move to the core and stays:
# rows queued by an earlier version must still find their handler after an upgrade.
WELCOME = "mattermost.welcome"

CONSOLE_GREETING = (
    "intra-bot — console. Posez une question (« aide », « /intra club »…), « quit » pour sortir."
)
CONSOLE_FAREWELL = "À bientôt !"


@dataclass(frozen=True)
class WelcomeSettings:
    channel_id: str  # the public channel whose joiners are welcomed
    enabled: bool


def should_welcome(settings: WelcomeSettings, channel_id: str, user_id: str, bot_id: str) -> bool:
    """Whether someone who joined `channel_id` is to be welcomed."""
    return (
        settings.enabled
        and channel_id == settings.channel_id
        and bool(user_id)
        and user_id != bot_id
    )


def welcome_key(user_id: str) -> str:
    """The outbox key of someone's welcome: queued once per person, sent until done."""
    return f"welcome:{user_id}"


def welcome_reply(content: Content, dialect: Dialect = CONSOLE_DIALECT) -> Reply:
    """The welcome, in the words of the platform the person joined on."""
    return speak(Reply(content.messages.welcome.text), dialect)
