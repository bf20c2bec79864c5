"""The Matrix router: private replies by DM with a pointer in the thread; newcomers greeted.

Recorded event shapes on a fake of the mautrix client (only the calls the router and the
platform make); the same paths run against the real Synapse in tests/e2e_matrix.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from mautrix.client import SyncStream
from mautrix.types import StateEvent

from bot.adapters.matrix.events import MatrixEventRouter
from bot.adapters.matrix.platform import KEY_FIELD, MatrixPlatform
from bot.answers.conversation import PRIVATE_POINTER, Conversation
from bot.chat import Message, Reply, Visibility
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.store import Store
from tests.contract.test_matrix_router import (
    BOT,
    PUBLIC,
    ROOM,
    FakeClient,
    FakeStateStore,
    message,
)

ALICE = "@alice:agent.dinum.tchap.gouv.fr"


class DmStateStore(FakeStateStore):
    def __init__(self, members: dict[str, list[str]]) -> None:
        super().__init__(members)
        self.encrypted: list[str] = []

    async def set_encryption_info(self, room_id: str, _content: object) -> None:
        self.encrypted.append(room_id)

    async def get_membership(self, room_id: str, user_id: str) -> None:
        return None


class DmClient(FakeClient):
    """The fake client, able to create a DM room as the platform does."""

    def __init__(self) -> None:
        super().__init__()
        self.state_store = DmStateStore(self.state_store.members)
        self.created: list[list[str]] = []
        self.txn_ids: list[str | None] = []
        self.direct: dict[str, list[str]] | None = None  # the bot's m.direct; None: never set

    async def get_account_data(self, event_type: object) -> dict[str, list[str]]:
        from mautrix.errors import MNotFound

        if self.direct is None:
            raise MNotFound(404, "Account data not found")
        return self.direct

    async def create_room(self, *, invitees: list[str], **_options: Any) -> str:
        self.created.append(invitees)
        return f"!dm{len(self.created)}:agent.dinum.tchap.gouv.fr"

    async def get_members(self, room_id: str) -> list[str]:
        return []

    async def send_message_event(
        self, room_id: str, _type: object, content: dict[str, Any], txn_id: str | None = None
    ) -> str:
        self.txn_ids.append(txn_id)
        return await super().send_message_event(room_id, _type, content)


class FakeGreeter:
    def __init__(self) -> None:
        self.joined_users: list[tuple[str, str]] = []

    async def joined(self, platform: str, user_id: str) -> bool:
        self.joined_users.append((platform, user_id))
        return True


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")


async def pending(_message: Message, _rest: str) -> Reply:
    """What the invitation service answers a non-referent: for the asker only."""
    return Reply("La liste des demandes est réservée aux référentes.", visibility=Visibility.ASKER)


def router(client: DmClient, store: Store, greeter: FakeGreeter | None = None) -> MatrixEventRouter:
    platform = MatrixPlatform(store, public_room=PUBLIC)
    platform.bind(client)  # type: ignore[arg-type]
    conversation = Conversation(ContentSource(DEFAULT_CONTENT_DIR))
    conversation.register("demandes", pending)
    return MatrixEventRouter(
        client,  # type: ignore[arg-type]
        store,
        conversation,
        platform,
        prefix="!intra",
        allowed_servers=frozenset({"agent.dinum.tchap.gouv.fr"}),
        shared_rooms=frozenset({PUBLIC}),
        public_room=PUBLIC,
        greeter=greeter,  # type: ignore[arg-type]
    )


async def test_a_private_reply_to_a_room_question_goes_by_dm_with_a_pointer_in_the_thread(
    store: Store,
) -> None:
    client = DmClient()
    await router(client, store).on_message(message("!intra demandes", "$ask", PUBLIC))
    assert client.created == [[ALICE]]
    assert client.state_store.encrypted == [client.sent[0][0]]  # an encrypted DM room
    (dm_room, private), (room, pointer) = client.sent
    assert dm_room == "!dm1:agent.dinum.tchap.gouv.fr"
    assert "référent" in private["body"].lower() and "m.relates_to" not in private
    assert room == PUBLIC
    assert pointer["body"] == PRIVATE_POINTER.text
    assert pointer["m.relates_to"]["event_id"] == "$ask"
    # Each post keyed (content and transaction id): a retried send is the same event.
    assert private[KEY_FIELD] != pointer[KEY_FIELD]
    assert all(client.txn_ids) and len(set(client.txn_ids)) == 2


async def test_a_private_reply_in_a_dm_stays_in_the_dm(store: Store) -> None:
    client = DmClient()
    store.set_value(f"matrix.dm:{BOT}:{ALICE}", ROOM)  # the room the bot made for Alice
    await router(client, store).on_message(message("demandes", "$ask", ROOM))
    assert client.created == []
    assert [room for room, _ in client.sent] == [ROOM]
    assert client.sent[0][1]["body"] != PRIVATE_POINTER.text


async def test_a_private_reply_stays_in_a_dm_the_bots_m_direct_lists(store: Store) -> None:
    client = DmClient()
    client.direct = {ALICE: ["!old:agent.dinum.tchap.gouv.fr", ROOM]}
    await router(client, store).on_message(message("demandes", "$ask", ROOM))
    assert client.created == [] and [room for room, _ in client.sent] == [ROOM]


@pytest.mark.parametrize(
    "direct",
    [None, {}, {"@bob:agent.dinum.tchap.gouv.fr": [ROOM]}, {ALICE: ["!other:x"]}],
    ids=["no-m.direct", "empty", "another-persons-dm", "another-room"],
)
async def test_a_private_reply_in_a_room_of_two_that_is_no_dm_goes_by_dm(
    store: Store, direct: dict[str, list[str]] | None
) -> None:
    """Two members (Alice and the bot) but neither the bot's DM room with Alice nor listed
    in its m.direct: maybe a public room nobody else has joined yet. The answer goes to the
    DM, a pointer says so in the room."""
    client = DmClient()
    client.direct = direct
    store.set_value(f"matrix.dm:{BOT}:{ALICE}", "!dm-elsewhere:agent.dinum.tchap.gouv.fr")
    await router(client, store).on_message(message("demandes", "$ask", ROOM))
    (dm_room, private), (room, pointer) = client.sent
    assert dm_room != ROOM and "référent" in private["body"].lower()
    assert room == ROOM and pointer["body"] == PRIVATE_POINTER.text


async def test_an_answer_for_everyone_stays_in_the_room_thread(store: Store) -> None:
    client = DmClient()
    await router(client, store).on_message(message("!intra aide", "$ask", PUBLIC))
    assert client.created == [] and [room for room, _ in client.sent] == [PUBLIC]


def member(
    user: str,
    membership: str = "join",
    *,
    room: str = PUBLIC,
    previous: str | None = None,
    age_s: float = 1.0,
) -> Any:
    event = StateEvent.deserialize(
        {
            "type": "m.room.member",
            "room_id": room,
            "sender": user,
            "state_key": user,
            "event_id": f"$member-{user}-{membership}",
            "origin_server_ts": int((time.time() - age_s) * 1000),
            "content": {"membership": membership, "displayname": "Alice"},
            "unsigned": {"prev_content": {"membership": previous}} if previous else {},
        }
    )
    event.source = SyncStream.JOINED_ROOM | SyncStream.TIMELINE  # as the syncer marks it
    return event


async def test_a_newcomer_of_the_public_room_is_handed_to_the_greeter(store: Store) -> None:
    greeter = FakeGreeter()
    await router(DmClient(), store, greeter).on_member(member(ALICE, previous="leave"))
    assert greeter.joined_users == [("matrix", ALICE)]


@pytest.mark.parametrize(
    "event",
    [
        member(ALICE, previous="join"),  # a new display name, not a join
        member(ALICE, "leave"),
        member(ALICE, room="!other:agent.dinum.tchap.gouv.fr"),
        member(BOT),  # the bot itself
        member(ALICE, age_s=3 * 86400),  # history, not a newcomer
    ],
    ids=["rename", "leave", "other-room", "the-bot", "old-history"],
)
async def test_who_is_not_a_newcomer(store: Store, event: Any) -> None:
    greeter = FakeGreeter()
    await router(DmClient(), store, greeter).on_member(event)
    assert greeter.joined_users == []


async def test_the_first_sync_history_welcomes_nobody(store: Store) -> None:
    greeter = FakeGreeter()
    bot = router(DmClient(), store, greeter)
    bot.live = False
    await bot.on_member(member(ALICE))
    assert greeter.joined_users == []
