"""`MatrixPlatform`'s invitation side on a fake client: the invite and its power check,
membership, the edit of a notice (`m.replace`), and a not-yet-connected platform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mautrix.errors import MForbidden, MNotFound, make_request_error
from mautrix.types import (
    EventType,
    Membership,
    MemberStateEventContent,
    PowerLevelStateEventContent,
)

from bot.adapters.matrix.platform import MatrixPlatform
from bot.chat import AddFailed, Button, PlatformUnavailable, Reply
from bot.store import Store

BOT = "@intra-bot:agent.dinum.tchap.gouv.fr"
PRIVATE = "!private:agent.dinum.tchap.gouv.fr"
CAMILLE = "@camille-x.gouv.fr:agent.dinum.tchap.gouv.fr"


class FakeStateStore:
    """What the sync keeps of the room's state: the power levels, once seen."""

    def __init__(self) -> None:
        self.levels: PowerLevelStateEventContent | None = None

    async def get_power_levels(self, room: str) -> PowerLevelStateEventContent | None:
        return self.levels


class FakeClient:
    mxid = BOT

    def __init__(self, bot_level: int = 50, invite_level: int = 50) -> None:
        self.members: dict[str, Membership] = {}
        self.levels = PowerLevelStateEventContent(users={BOT: bot_level}, invite=invite_level)
        self.state_store = FakeStateStore()
        self.invited: list[tuple[str, str]] = []
        self.sent: list[tuple[str, Any]] = []
        self.requests: list[str] = []
        self.refuse_invite = False

    async def get_state_event(self, room: str, type_: EventType, state_key: str = "") -> Any:
        self.requests.append(f"GET {type_}")
        if type_ == EventType.ROOM_POWER_LEVELS:
            return self.levels
        if state_key not in self.members:
            raise MNotFound(404, "not found")
        return MemberStateEventContent(membership=self.members[state_key])

    async def invite_user(self, room: str, user_id: str) -> None:
        self.requests.append("POST invite")
        # As Synapse: no right to invite, or the person is already in the room: 403.
        if self.refuse_invite:
            raise MForbidden(403, "You don't have permission to invite users")
        if self.members.get(user_id) == Membership.JOIN:
            raise MForbidden(403, f"{user_id} is already in the room.")
        self.invited.append((room, user_id))
        self.members[user_id] = Membership.INVITE

    async def send_message_event(
        self, room: str, type_: object, content: Any, txn_id: str | None = None
    ) -> str:
        self.sent.append((room, content))
        return f"$sent{len(self.sent)}"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'store.db'}")


def platform(client: FakeClient | None, store: Store) -> MatrixPlatform:
    matrix = MatrixPlatform(store, private_room=PRIVATE)
    if client is not None:
        matrix.bind(client)  # type: ignore[arg-type]
    return matrix


async def test_an_allowed_bot_invites_in_one_request_with_synced_levels(store: Store) -> None:
    client = FakeClient()
    client.state_store.levels = client.levels
    matrix = platform(client, store)
    assert not await matrix.is_member(CAMILLE)
    client.requests.clear()
    await matrix.add_member(CAMILLE)
    assert client.requests == ["POST invite"]  # one request: Tchap's pace is 1/s
    assert client.invited == [(PRIVATE, CAMILLE)]
    assert await matrix.is_member(CAMILLE)


async def test_levels_not_synced_yet_are_asked_for(store: Store) -> None:
    client = FakeClient(bot_level=0)
    with pytest.raises(AddFailed):
        await platform(client, store).add_member(CAMILLE)
    assert client.requests == ["GET m.room.power_levels"]


async def test_someone_already_in_the_room_is_added_already(store: Store) -> None:
    client = FakeClient()
    client.members[CAMILLE] = Membership.JOIN  # a retry after a crash; she even joined
    await platform(client, store).add_member(CAMILLE)
    assert client.invited == []


async def test_a_bot_below_the_invite_level_gets_advice_not_an_error(store: Store) -> None:
    client = FakeClient(bot_level=0, invite_level=50)
    with pytest.raises(AddFailed) as failed:
        await platform(client, store).add_member(CAMILLE)
    assert "modérateur (niveau 50)" in failed.value.advice and BOT in failed.value.advice
    assert client.invited == []


async def test_a_refused_invite_gets_the_same_advice(store: Store) -> None:
    client = FakeClient()
    client.refuse_invite = True
    with pytest.raises(AddFailed) as failed:
        await platform(client, store).add_member(CAMILLE)
    assert "Rôles et permissions" in failed.value.advice


async def test_not_connected_yet(store: Store) -> None:
    matrix = platform(None, store)
    with pytest.raises(AddFailed) as failed:
        await matrix.add_member(CAMILLE)
    assert "Tchap ne répond pas" in failed.value.advice
    with pytest.raises(PlatformUnavailable):
        await matrix.is_member(CAMILLE)


async def test_an_update_is_an_edit_of_the_notice(store: Store) -> None:
    client = FakeClient()
    await platform(client, store).update_post(
        "$notice", Reply("✅ **Acceptée**"), channel_id="!dm:x"
    )
    [(room, content)] = client.sent
    assert room == "!dm:x"
    assert content["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$notice"}
    assert content["m.new_content"]["body"] == "✅ **Acceptée**"
    assert content["body"] == "* ✅ **Acceptée**"
    assert "m.relates_to" not in content["m.new_content"]


async def test_referents_accounts_are_their_matrix_ids(store: Store) -> None:
    ids = await platform(FakeClient(), store).user_ids([CAMILLE, "marine.purson"])
    assert ids == {CAMILLE: CAMILLE}


class ReactingClient(FakeClient):
    """Synapse refuses the same reaction twice from the same sender (M_DUPLICATE_ANNOTATION)."""

    def __init__(self) -> None:
        super().__init__()
        self.reactions: set[tuple[str, str]] = set()

    async def send_message_event(
        self, room: str, type_: object, content: Any, txn_id: str | None = None
    ) -> str:
        relation = content.get("m.relates_to", {})
        if relation.get("rel_type") == "m.annotation":
            mine = (relation["event_id"], relation["key"])
            if mine in self.reactions:
                # As mautrix builds it from Synapse's answer.
                raise make_request_error(
                    400,
                    '{"errcode": "M_DUPLICATE_ANNOTATION"}',
                    "M_DUPLICATE_ANNOTATION",
                    "Can't send same reaction twice",
                )
            self.reactions.add(mine)
        return await super().send_message_event(room, type_, content)


async def test_choices_offered_again_after_a_crash_are_not_an_error(store: Store) -> None:
    client = ReactingClient()
    matrix = platform(client, store)
    notice = Reply(
        "Demande",
        buttons=(
            Button("Accepter", "accept", "inv1", emoji="✅"),
            Button("Refuser", "decline", "inv1", emoji="❌"),
        ),
    )
    await matrix.offer_choices("!dm:x", "$notice", notice)
    await matrix.offer_choices("!dm:x", "$notice", notice)  # the outbox's retry
    assert client.reactions == {("$notice", "✅"), ("$notice", "❌")}
    assert await matrix.choice("$notice", "✅\ufe0f") == ("accept", "inv1")
    assert await matrix.choice("$notice", "👍") is None
    assert await matrix.choice("$other", "✅") is None
