"""Who leaves the community, as Mattermost's websocket says it (payload shapes of the real
server's `user_removed` and `user_updated`), and as a Matrix member event says it: the
greeter tells the features that follow departures (the subscriptions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mautrix.types import (
    EventType,
    Membership,
    MemberStateEventContent,
    StateEvent,
    StateUnsigned,
)

from bot.adapters.matrix.newcomers import is_leaver
from bot.adapters.mattermost.events import BotIdentity, EventRouter
from bot.answers.conversation import Conversation
from bot.answers.welcome import WelcomeSettings
from bot.content.loader import ContentSource
from bot.store import Store
from tests.contract.payloads import ALICE_ID, BOT_ID
from tests.contract.test_events import PUBLIC_ID, RecordingApi
from tests.contract.wiring import greeter_for


class Departures:
    def __init__(self) -> None:
        self.gone: list[tuple[str, str]] = []

    async def joined(self, platform: str, user_id: str) -> None:
        pass  # arrivals are the welcome's tests

    async def left(self, platform: str, user_id: str) -> None:
        self.gone.append((platform, user_id))


def removed(channel_id: str, user_id: str) -> dict[str, Any]:
    return {
        "event": "user_removed",
        "data": {"remover_id": user_id, "user_id": user_id},
        "broadcast": {"channel_id": channel_id, "user_id": "", "omit_users": None, "team_id": ""},
        "seq": 4,
    }


def updated(user_id: str, delete_at: int) -> dict[str, Any]:
    user = {"id": user_id, "username": "alice", "delete_at": delete_at, "roles": "system_user"}
    return {
        "event": "user_updated",
        "data": {"user": user},
        "broadcast": {"channel_id": "", "user_id": "", "omit_users": None, "team_id": ""},
        "seq": 5,
    }


async def test_leaving_the_public_channel_or_a_deactivation_is_a_departure(
    tmp_path: Path,
) -> None:
    api = RecordingApi()
    store = Store.open(f"sqlite:///{tmp_path}/store.db")
    greeter = greeter_for(api, store, bot_id=BOT_ID)
    departures = Departures()
    greeter.tell(departures)
    router = EventRouter(
        api,  # type: ignore[arg-type]
        store,
        Conversation(ContentSource()),
        BotIdentity(BOT_ID, "intra-bot"),
        WelcomeSettings(channel_id=PUBLIC_ID, enabled=True),
        greeter,
    )
    await router(removed("another-channel", ALICE_ID))  # another channel: nothing
    await router(updated(ALICE_ID, 0))  # a new name or position: nothing
    assert departures.gone == []
    await router(removed(PUBLIC_ID, ALICE_ID))
    await router(updated("carol", 1_765_000_000_000))
    await router(removed(PUBLIC_ID, BOT_ID))  # the bot itself: nothing
    assert departures.gone == [("mattermost", ALICE_ID), ("mattermost", "carol")]
    store.close()


def member(membership: Membership, previous: Membership | None, who: str = "@ana:tchap") -> Any:
    return StateEvent(
        type=EventType.ROOM_MEMBER,
        room_id="!public:tchap",  # type: ignore[arg-type]
        event_id="$e",  # type: ignore[arg-type]
        sender=who,  # type: ignore[arg-type]
        timestamp=0,
        state_key=who,
        content=MemberStateEventContent(membership=membership),
        unsigned=StateUnsigned(
            prev_content=MemberStateEventContent(membership=previous) if previous else None
        ),
    )


def test_a_matrix_member_who_leaves_or_is_banned_from_the_public_room_left() -> None:
    assert is_leaver(member(Membership.LEAVE, Membership.JOIN), "!public:tchap", "@bot:tchap")
    assert is_leaver(member(Membership.BAN, Membership.JOIN), "!public:tchap", "@bot:tchap")
    # Declining an invitation, another room, the bot itself: not a departure.
    assert not is_leaver(member(Membership.LEAVE, Membership.INVITE), "!public:tchap", "@b:t")
    assert not is_leaver(member(Membership.LEAVE, Membership.JOIN), "!other:tchap", "@b:t")
    assert not is_leaver(
        member(Membership.LEAVE, Membership.JOIN, "@bot:tchap"), "!public:tchap", "@bot:tchap"
    )
