"""Shared fakes: one chat platform behind the core's port, one clock, the people in the tests.

Every service test uses these rather than a fake of its own, so a change to the port
(`bot.chat.ChatPlatform`) is one change here.
"""

from __future__ import annotations

import datetime as dt

from bot.chat import AddFailed, Dialect, Reply, User

NOW = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)
MAGALI = User("u-magali", "magali.marcel")
MARINE = User("u-marine", "marine.purson")
# A referent who does not handle invitations: added to a copy of the content (the real one has none).
OBSERVER = User("u-observer", "observer.referent")
CAMILLE = User("u-camille", "camille")


class FakeClock:
    """A clock the test moves by hand: `clock.now += dt.timedelta(...)`."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class FakeChatPlatform:
    """The whole `ChatPlatform` port in memory, remembering what was asked of it.

    Marked posts (the reminders): `marked` (marker -> post id), `posts`, `searches`, and
    `search_error` to make a search fail. Invitations: `members`, `sent` (DMs and channel
    posts), `updated` posts, `adds`, and `fail_add` to make the channel add fail."""

    channel_name = "domaine-intras-prive"

    def __init__(self, marked: dict[str, str] | None = None, name: str = "mattermost") -> None:
        # Invitations and effects without a platform are Mattermost's: the default name.
        self.name = name
        # As the real adapters declare it, with this fake's private channel.
        self.dialect = (
            Dialect("Tchap", "!intra", private_channel=self.channel_name)
            if name == "matrix"
            else Dialect("Mattermost", "/intra", private_channel=self.channel_name)
        )
        self.ready = True  # False: not connected yet
        self.choices: list[tuple[str, str, Reply]] = []
        self.marked: dict[str, str] = dict(marked or {})
        self.posts: list[tuple[str, str, str]] = []
        self.searches: list[tuple[str, str, dt.datetime]] = []
        self.search_error: Exception | None = None
        self.members: set[str] = set()
        self.sent: list[tuple[str, Reply]] = []
        self.updated: dict[str, Reply] = {}
        self.fail_add: str = ""
        self.adds = 0

    async def post_marked(self, channel_name: str, text: str, marker: str) -> str:
        self.posts.append((channel_name, text, marker))
        post_id = f"post{len(self.posts)}"
        self.marked[marker] = post_id
        return post_id

    async def find_marked(self, channel_name: str, marker: str, since: dt.datetime) -> str | None:
        self.searches.append((channel_name, marker, since))
        if self.search_error is not None:
            raise self.search_error
        return self.marked.get(marker)

    async def is_member(self, user_id: str) -> bool:
        return user_id in self.members

    async def profile(self, user_id: str) -> User:
        return User(user_id, "camille", "Camille Testeuse", "Intra à la DGFiP")

    async def user_ids(self, usernames: list[str]) -> dict[str, str]:
        # Like the real ones: a Mattermost username has an opaque id, a Matrix id is its own.
        return {
            name: name if name.startswith("@") and ":" in name else f"u-{name.split('.')[0]}"
            for name in usernames
        }

    async def send_direct(
        self, user_id: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        self.sent.append((user_id, reply))
        return f"dm-{user_id}", f"post{len(self.sent)}"

    async def post_in(
        self, channel_name: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        return await self.send_direct(channel_name, reply)

    async def offer_choices(self, channel_id: str, post_id: str, reply: Reply) -> None:
        self.choices.append((channel_id, post_id, reply))

    async def update_post(self, post_id: str, reply: Reply, *, channel_id: str = "") -> None:
        self.updated[post_id] = reply

    async def add_member(self, user_id: str) -> None:
        if self.fail_add:
            raise AddFailed(self.fail_add)
        self.adds += 1
        self.members.add(user_id)


class TestBot:
    """errbot's `testbot`: the whole conversation on a SQLite store and the fake platform.

    `await bot.push("rejoindre bonjour", CAMILLE)` returns the reply that person would see,
    through the same `Conversation.respond` the adapters call; `bot.platform` records what
    the services sent around it (notices, DMs, marked posts)."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, store_url: str) -> None:
        # Imported here: the fakes above are used by tests that need no store.
        from bot.answers.conversation import Conversation
        from bot.chat import Platforms
        from bot.club.service import ClubService
        from bot.content.loader import ContentSource
        from bot.invitations.service import InvitationService, InvitationSettings
        from bot.store import Store

        content = ContentSource()
        self.store = Store.open(store_url)
        self.clock = FakeClock()
        self.platform = FakeChatPlatform()
        self.conversation = Conversation(content)
        self.club = ClubService(
            content, self.store, owner="testbot", channel=self.platform, clock=self.clock
        )
        self.invitations = InvitationService(
            content, self.store, Platforms(self.platform), InvitationSettings(), self.clock
        )
        self.conversation.serve_topic("club", self.club.reply)
        self.conversation.register("rejoindre", self.invitations.request)
        self.conversation.register("demandes", self.invitations.pending)

    async def push(self, text: str, user: User = CAMILLE, channel_id: str = "dm") -> Reply:
        from bot.chat import Message

        return await self.conversation.respond(Message(text, user, channel_id))

    def close(self) -> None:
        self.store.close()
