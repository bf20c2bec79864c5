"""`MatrixPlatform` on the port: unavailable until bound, keyed posts found again, profiles.

A fake of the few mautrix client calls it makes, with recorded event shapes; the real
homeserver runs the same paths in tests/e2e_matrix.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from mautrix.errors import MNotFound
from mautrix.types import Event, Member, RoomAliasInfo, RoomID

from bot.adapters.matrix.platform import KEY_FIELD, MatrixPlatform, transaction_id
from bot.chat import NoSuchUser, PlatformUnavailable, Reply
from bot.store import Store

BOT = "@intra-bot:agent.dinum.tchap.gouv.fr"
ROOM = "!public:agent.dinum.tchap.gouv.fr"
ALIAS = "#domaine-intras:agent.dinum.tchap.gouv.fr"
NOW = dt.datetime.now(dt.UTC)


class Page(NamedTuple):
    start: str
    end: str | None
    events: list[Any]


def event(n: int, key: str = "", age: dt.timedelta = dt.timedelta(minutes=1)) -> Any:
    content: dict[str, Any] = {"msgtype": "m.notice", "body": f"post {n}"}
    if key:
        content[KEY_FIELD] = key
    return Event.deserialize(
        {
            "type": "m.room.message",
            "room_id": ROOM,
            "sender": BOT,
            "event_id": f"$e{n}",
            "origin_server_ts": int((NOW - age).timestamp() * 1000),
            "content": content,
        }
    )


class FakeClient:
    mxid = BOT
    crypto = None
    state_store = None

    def __init__(self, pages: list[list[Any]] | None = None) -> None:
        self.pages = pages or []
        self.page_calls: list[str | None] = []
        self.sent: list[tuple[str, dict[str, Any], str | None]] = []
        self.resolved: list[str] = []

    async def get_messages(self, room_id: str, _direction: object, **options: Any) -> Page:
        token = options.get("from_token")
        self.page_calls.append(token)
        index = int(token or 0)
        events = self.pages[index] if index < len(self.pages) else []
        return Page(str(index), str(index + 1), events)

    async def send_message_event(
        self, room_id: str, _type: object, content: dict[str, Any], txn_id: str | None = None
    ) -> str:
        self.sent.append((room_id, content, txn_id))
        return f"$sent{len(self.sent)}"

    async def resolve_room_alias(self, alias: str) -> RoomAliasInfo:
        self.resolved.append(alias)
        return RoomAliasInfo(room_id=RoomID(ROOM), servers=[])

    async def get_profile(self, user_id: str) -> Member:
        if user_id.startswith("@ghost"):
            raise MNotFound(404, "Profile was not found")
        return Member(displayname="Alice Martin")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")


def bound(store: Store, client: FakeClient) -> MatrixPlatform:
    platform = MatrixPlatform(store, public_room=ALIAS, private_room="!private:x")
    platform.bind(client)  # type: ignore[arg-type]
    return platform


async def test_before_the_homeserver_answers_every_call_is_unavailable(store: Store) -> None:
    platform = MatrixPlatform(store, public_room=ALIAS, private_room="!private:x")
    assert platform.name == "matrix" and platform.channel_name == "!private:x"
    with pytest.raises(PlatformUnavailable):
        await platform.post_marked(ALIAS, "Rappel", "reminder:r@1")
    with pytest.raises(PlatformUnavailable):
        await platform.send_direct("@alice:x", Reply("Bienvenue"), key="welcome:@alice:x")
    with pytest.raises(PlatformUnavailable):
        await platform.profile("@alice:x")


async def test_a_marked_post_carries_its_marker_and_a_stable_transaction_id(store: Store) -> None:
    client = FakeClient()
    platform = bound(store, client)
    await platform.post_marked(ALIAS, "**Club** jeudi", "reminder:r@1")
    await platform.post_marked(ALIAS, "**Club** jeudi", "reminder:r@1")  # a retry
    assert client.resolved == [ALIAS]  # the alias is resolved once
    (room, content, txn), (_, _, again) = client.sent
    assert room == ROOM
    assert content[KEY_FIELD] == "reminder:r@1"
    assert content["m.mentions"] == {} and "<strong>Club</strong>" in content["formatted_body"]
    assert txn == again == transaction_id("reminder:r@1") != transaction_id("reminder:r@2")


async def test_find_marked_pages_back_to_since_and_no_further(store: Store) -> None:
    client = FakeClient(
        [
            [event(5), event(4, key="other")],
            [event(3, key="reminder:r@1", age=dt.timedelta(minutes=5))],
        ]
    )
    platform = bound(store, client)
    since = NOW - dt.timedelta(minutes=10)
    assert await platform.find_marked(ALIAS, "reminder:r@1", since) == "$e3"
    assert client.page_calls == [None, "1"]  # from now (no token), then the next page
    client.page_calls.clear()
    # The marked post is older than `since`: it does not count, and the search stops there.
    assert await platform.find_marked(ALIAS, "reminder:r@1", NOW - dt.timedelta(minutes=2)) is None
    assert client.page_calls == [None, "1"]
    assert await platform.find_marked(ALIAS, "reminder:r@9", since) is None


async def test_a_retried_keyed_post_is_not_sent_twice(store: Store) -> None:
    client = FakeClient([[event(7, key="notice:1")]])
    platform = bound(store, client)
    assert await platform.post_in(ROOM, Reply("Une demande"), key="notice:1", retry=True) == (
        ROOM,
        "$e7",
    )
    assert client.sent == []
    room, post = await platform.post_in(ROOM, Reply("Une autre"), key="notice:2", retry=True)
    assert (room, post) == (ROOM, "$sent1") and client.sent[0][1][KEY_FIELD] == "notice:2"


async def test_profiles(store: Store) -> None:
    platform = bound(store, FakeClient())
    alice = await platform.profile("@alice:x")
    assert (alice.id, alice.username, alice.full_name, alice.is_bot) == (
        "@alice:x",
        "@alice:x",
        "Alice Martin",
        False,
    )
    with pytest.raises(NoSuchUser):
        await platform.profile("@ghost:x")
