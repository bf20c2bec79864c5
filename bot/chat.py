"""The port between the core and a chat platform.

The core speaks only in these small types; each adapter (Mattermost, the console,
a future Tchap adapter) renders a `Reply` for its platform and turns its own
events into `Message`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol

# Mattermost's default MaxPostSize is 16383 runes; staying under it keeps every
# reply postable as a single message on every platform we target.
MAX_REPLY_CHARS = 16_000


class Visibility(Enum):
    """Who may see a reply: the core decides, each adapter keeps the promise.

    EVERYONE: whoever sees the question may see the answer (a mention in a channel is
    answered in its thread). ASKER: only the person who asked (lists reserved to the
    referents, permission errors, someone's own request): ephemeral for a slash command,
    a direct message for a mention in a channel, with at most a short public pointer.
    """

    EVERYONE = "everyone"
    ASKER = "asker"


class ButtonStyle(Enum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    """A button under a reply. `action` and `value` are opaque to the platform."""

    label: str
    action: str
    value: str
    style: ButtonStyle = ButtonStyle.DEFAULT


@dataclass(frozen=True)
class Card:
    """A block under a reply with its own buttons (one per request in a list, say)."""

    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Reply:
    """What the core answers: Markdown text, optional buttons or cards, and who sees it."""

    text: str
    buttons: tuple[Button, ...] = ()
    visibility: Visibility = Visibility.EVERYONE
    cards: tuple[Card, ...] = ()


@dataclass(frozen=True)
class User:
    """A person as the core needs to know them."""

    id: str
    username: str
    full_name: str = ""
    position: str = ""


@dataclass(frozen=True)
class Message:
    """An incoming message addressed to the bot (DM, mention or slash command)."""

    text: str
    user: User
    channel_id: str
    post_id: str = ""
    thread_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class ChatPlatform(Protocol):
    """What the core's services need from a chat platform."""

    async def post(self, channel_id: str, reply: Reply, *, thread_id: str = "") -> str:
        """Post `reply` in a channel; return the new post's id."""
        ...

    async def send_direct(self, user_id: str, reply: Reply) -> str:
        """Send `reply` to one person in a direct message; return the post's id."""
        ...


class ChannelPoster(Protocol):
    """Posting to a named channel with an invisible marker, and finding such a post again.

    The marker lets a replica that takes over a reminder from a crashed one see whether
    the post went out before the crash, instead of posting it twice.
    """

    async def post_marked(self, channel_name: str, text: str, marker: str) -> str:
        """Post `text` in the channel; return the post's id."""
        ...

    async def find_marked(self, channel_name: str, marker: str, since: datetime) -> str | None:
        """The id of a post carrying `marker` made since `since`, if any."""
        ...
