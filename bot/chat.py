"""The port between the core and a chat platform.

The core speaks only in these small types; each adapter (Mattermost, the console,
the Matrix adapter) renders a `Reply` for its platform and turns its own
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
    """A button under a reply. `action` and `value` are opaque to the platform.

    `emoji` is how a platform without buttons offers the choice (Matrix: a reaction)."""

    label: str
    action: str
    value: str
    style: ButtonStyle = ButtonStyle.DEFAULT
    emoji: str = ""


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
class Dialog:
    """A small window asking for one optional text (a reason to decline, say).

    The adapter shows it and sends the text back to the service that asked for it.
    """

    title: str
    introduction: str
    submit_label: str
    field_label: str
    placeholder: str = ""
    max_length: int = 500


@dataclass(frozen=True)
class Dialect:
    """How people write on a platform, as the platform declares it.

    The core words each reply with the dialect of the platform it goes to
    (`bot.speech`): a Tchap user reads `!intra aide` and the Tchap room, a
    Mattermost user `/intra aide` and `~canal`. The default is the console's, which speaks
    for both: the content's own spelling, every account of a person.
    """

    # The platform as people call it ("Mattermost", "Tchap"): a person's account on it is
    # shown under this name; "" (the console) shows every account.
    label: str = ""
    # The command word typed in a channel or room (a DM needs none).
    command: str = "/intra"
    # The community's public channel and the private one, as the platform's configuration
    # names them ("domaine-intrapreneurs", "#domaine-intras:serveur", "!id:serveur");
    # "" keeps the content's name.
    public_channel: str = ""
    private_channel: str = ""


CONSOLE_DIALECT = Dialect()


@dataclass(frozen=True)
class User:
    """A person as the core needs to know them."""

    id: str
    username: str
    full_name: str = ""
    position: str = ""
    is_bot: bool = False


@dataclass(frozen=True)
class Message:
    """An incoming message addressed to the bot (DM, mention or slash command)."""

    text: str
    user: User
    channel_id: str
    post_id: str = ""
    thread_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # Which platform it came from (a `ChatPlatform.name`): where the answer's effects go.
    platform: str = ""


class AddFailed(Exception):
    """The platform could not add someone to the private channel.

    `advice` tells a referent, in French, what to fix; the adapter writes it because only
    the adapter knows the platform's reasons (a deactivated account, a missing permission).
    """

    def __init__(self, advice: str) -> None:
        super().__init__(advice)
        self.advice = advice


class PlatformUnavailable(Exception):
    """The platform cannot be reached now (not connected yet, restarting): try again later."""


class PlatformRefused(Exception):
    """The platform refused the bot's configuration (a rejected token, a wrong account):
    retrying cannot help, so the process stops; the message says what to fix."""


class NoSuchUser(Exception):
    """The platform does not know this person (any more): retrying will not help."""


class ChatPlatform(Protocol):
    """What the three jobs need from a chat platform, and all an adapter implements for them.

    Channels are named as the configuration names them; people by the platform's user id.
    Posts that must happen exactly once carry a key or a marker, so that a retry (after a
    crash, on another replica) first looks for the copy an earlier attempt may have made.
    """

    # The platform's name ("mattermost", "matrix"): the key that records, queued effects
    # and messages carry, so each goes back to the platform it came from.
    name: str
    # The private channel that invitations add people to.
    channel_name: str
    # How its people write: the command word, its channels' names, its label.
    dialect: Dialect

    @property
    def ready(self) -> bool:
        """Whether the platform has answered (connected); before, calls raise
        PlatformUnavailable, so work that claims something first waits for this."""
        ...

    # The club's reminders.
    async def post_marked(self, channel_name: str, text: str, marker: str) -> str:
        """Post `text` in the channel with an invisible `marker`; return the post's id."""
        ...

    async def find_marked(self, channel_name: str, marker: str, since: datetime) -> str | None:
        """The id of a post carrying `marker` made since `since`, if any."""
        ...

    # People.
    async def is_member(self, user_id: str) -> bool:
        """Whether the person is in the private channel."""
        ...

    async def profile(self, user_id: str) -> User:
        """The person's profile; raise NoSuchUser when the platform does not know them."""
        ...

    async def user_ids(self, usernames: list[str]) -> dict[str, str]:
        """username -> user id, for the usernames the platform knows."""
        ...

    # Messages that follow a state change (through the outbox).
    async def send_direct(
        self, user_id: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        """Send a DM; return (channel id, post id).

        With a `key` (the outbox's), the post carries it, and a `retry` first looks for a
        post with that key sent by an earlier attempt that died before recording it."""
        ...

    async def post_in(
        self, channel_name: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        """Post in a team channel; return (channel id, post id). `key`: as send_direct."""
        ...

    async def offer_choices(self, channel_id: str, post_id: str, reply: Reply) -> None:
        """Called once a reply with buttons is posted: a platform that cannot show buttons
        offers them another way (Matrix: the bot's own reactions, one per `Button.emoji`).
        Safe to call again for the same post."""
        ...

    async def update_post(self, post_id: str, reply: Reply, *, channel_id: str = "") -> None:
        """Replace a post's text and buttons (`channel_id`: where it is, for platforms
        whose post ids are not global)."""
        ...

    async def add_member(self, user_id: str) -> None:
        """Add to the private channel; raise AddFailed with advice when it cannot."""
        ...


class Platforms:
    """The chat platforms this process serves, by name.

    Each platform object exists from start-up and connects in the background; until it
    does, its calls raise PlatformUnavailable, which the outbox and the scheduler retry.
    """

    def __init__(self, *platforms: ChatPlatform) -> None:
        self._by_name = {platform.name: platform for platform in platforms}

    def add(self, platform: ChatPlatform) -> None:
        self._by_name[platform.name] = platform

    def names(self) -> list[str]:
        return list(self._by_name)

    def dialect(self, name: str) -> Dialect:
        """How people write on the platform `name`; the console's for "" or an unknown name."""
        platform = self._by_name.get(name)
        return platform.dialect if platform is not None else CONSOLE_DIALECT

    def get(self, name: str) -> ChatPlatform:
        try:
            return self._by_name[name]
        except KeyError:
            raise PlatformUnavailable(f"no chat platform named {name!r} is configured") from None
