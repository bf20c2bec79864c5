"""The Matrix router on recorded event shapes: invitations by server, questions claimed once.

A small fake stands in for the mautrix client (only the calls the router makes); the same
shapes are exercised end to end against the real Synapse in tests/e2e_matrix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.adapters.matrix.events import MatrixEventRouter
from bot.adapters.matrix.platform import MatrixPlatform
from bot.answers.conversation import Conversation
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.store import Store

BOT = "@intra-bot:agent.dinum.tchap.gouv.fr"
ROOM = "!dm:agent.dinum.tchap.gouv.fr"
PUBLIC = "!public:agent.dinum.tchap.gouv.fr"


class FakeStateStore:
    def __init__(self, members: dict[str, list[str]]) -> None:
        self.members = members

    async def has_full_member_list(self, room_id: str) -> bool:
        return True

    async def get_members(self, room_id: str) -> list[str]:
        return self.members.get(room_id, [])

    async def get_member(self, room_id: str, user_id: str) -> None:
        return None


class FakeClient:
    mxid = BOT
    crypto = None

    def __init__(self) -> None:
        self.state_store = FakeStateStore(
            {ROOM: [BOT, "@alice:agent.dinum.tchap.gouv.fr"], PUBLIC: [BOT, "@a:x", "@b:x"]}
        )
        self.joined: list[str] = []
        self.left: list[str] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def join_room_by_id(self, room_id: str) -> str:
        self.joined.append(room_id)
        return room_id

    async def leave_room(self, room_id: str) -> None:
        self.left.append(room_id)

    async def send_message_event(
        self, room_id: str, _type: object, content: dict[str, Any], txn_id: str | None = None
    ) -> str:
        self.sent.append((room_id, content))
        return f"$reply{len(self.sent)}"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")


def router(client: FakeClient, store: Store, allowed: set[str]) -> MatrixEventRouter:
    platform = MatrixPlatform(store)
    platform.bind(client)  # type: ignore[arg-type]
    return MatrixEventRouter(
        client,  # type: ignore[arg-type]
        store,
        Conversation(ContentSource(DEFAULT_CONTENT_DIR)),
        platform,
        prefix="!intra",
        allowed_servers=frozenset(allowed),
    )


def invite(sender: str) -> Any:
    from mautrix.client import SyncStream
    from mautrix.types import StateEvent

    event = StateEvent.deserialize(
        {
            "type": "m.room.member",
            "room_id": ROOM,
            "sender": sender,
            "state_key": BOT,
            "event_id": "$invite",
            "origin_server_ts": 1,
            "content": {"membership": "invite", "is_direct": True},
        }
    )
    event.source = SyncStream.INVITED_ROOM | SyncStream.STATE  # as the syncer marks it
    return event


def message(body: str, event_id: str = "$q1", room: str = ROOM, msgtype: str = "m.text") -> Any:
    from mautrix.types import MessageEvent

    return MessageEvent.deserialize(
        {
            "type": "m.room.message",
            "room_id": room,
            "sender": "@alice:agent.dinum.tchap.gouv.fr",
            "event_id": event_id,
            "origin_server_ts": 1,
            "content": {"msgtype": msgtype, "body": body},
        }
    )


async def test_an_invitation_from_an_allowed_server_is_accepted(store: Store) -> None:
    client = FakeClient()
    await router(client, store, {"agent.dinum.tchap.gouv.fr"}).on_member(
        invite("@alice:agent.dinum.tchap.gouv.fr")
    )
    assert client.joined == [ROOM] and client.left == []


async def test_an_invitation_from_another_server_is_refused(store: Store) -> None:
    client = FakeClient()
    await router(client, store, {"agent.dinum.tchap.gouv.fr"}).on_member(
        invite("@mallory:evil.example.org")
    )
    assert client.joined == [] and client.left == [ROOM]


async def test_a_dm_question_is_answered_once_even_when_replayed(store: Store) -> None:
    client = FakeClient()
    bot = router(client, store, {"agent.dinum.tchap.gouv.fr"})
    await bot.on_message(message("référents"))
    await bot.on_message(message("référents"))  # the same event again (a replayed sync)
    assert len(client.sent) == 1
    room, content = client.sent[0]
    assert room == ROOM
    assert content["msgtype"] == "m.notice" and "m.relates_to" not in content
    assert "référent" in content["body"].lower()


async def test_a_room_command_is_answered_in_its_thread_and_chatter_is_not(store: Store) -> None:
    client = FakeClient()
    bot = router(client, store, {"agent.dinum.tchap.gouv.fr"})
    await bot.on_message(message("bonjour tout le monde", "$chat", PUBLIC))
    await bot.on_message(message("!intra aide", "$cmd", PUBLIC))
    assert len(client.sent) == 1
    assert client.sent[0][1]["m.relates_to"]["event_id"] == "$cmd"


async def test_history_of_the_very_first_sync_is_not_answered(store: Store) -> None:
    client = FakeClient()
    bot = router(client, store, {"agent.dinum.tchap.gouv.fr"})
    bot.live = False
    await bot.on_message(message("aide"))
    assert client.sent == []
