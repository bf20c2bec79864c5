"""Which posted events the bot answers, and where (payload shapes of §C)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.adapters.mattermost.api import MattermostUnavailable, UserInfo
from bot.adapters.mattermost.events import BotIdentity, EventRouter
from bot.answers.conversation import Conversation, asker_only
from bot.answers.welcome import WelcomeSettings
from bot.chat import Message, Reply
from bot.content.loader import ContentSource
from bot.store import Store
from tests.contract.payloads import ALICE_ID, BOT_ID, OTHER_BOT_ID, posted_event
from tests.contract.wiring import greeter_for

PUBLIC_ID = "publicchannel0000000000000"


class RecordingApi:
    """Stands in for the REST facade: records what would be posted."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []

    async def create_post(
        self, channel_id: str, message: str, *, root_id: str = "", props: Any = None
    ) -> str:
        self.posts.append({"channel_id": channel_id, "message": message, "root_id": root_id})
        return f"reply{len(self.posts)}"

    async def user(self, user_id: str) -> UserInfo:
        return UserInfo(id=user_id, username="newcomer", is_bot=user_id == OTHER_BOT_ID)

    async def direct_channel(self, a: str, b: str) -> str:
        return f"dm-{b}"


@pytest.fixture
def router_and_api(tmp_path: Path) -> tuple[EventRouter, RecordingApi]:
    api = RecordingApi()
    store = Store.open(f"sqlite:///{tmp_path}/store.db")
    router = EventRouter(
        api,  # type: ignore[arg-type]
        store,
        Conversation(ContentSource()),
        BotIdentity(BOT_ID, "intra-bot"),
        WelcomeSettings(channel_id=PUBLIC_ID, enabled=True),
        greeter_for(api, store, bot_id=BOT_ID),
    )
    return router, api


async def test_dm_is_answered_in_the_dm(router_and_api: tuple[EventRouter, RecordingApi]) -> None:
    router, api = router_and_api
    await router(posted_event("certification"))
    assert len(api.posts) == 1
    assert api.posts[0]["channel_id"] == "dmchannel00000000000000000"
    assert api.posts[0]["root_id"] == ""
    assert "RS6247" in api.posts[0]["message"]


async def test_mention_is_answered_in_the_thread(
    router_and_api: tuple[EventRouter, RecordingApi],
) -> None:
    router, api = router_and_api
    event = posted_event(
        "@intra-bot qui sont les référents ?", channel_type="O", mentions=[BOT_ID], post_id="root1"
    )
    await router(event)
    assert api.posts[0]["root_id"] == "root1"
    assert "Marine Purson" in api.posts[0]["message"]


async def test_channel_post_without_mention_is_ignored(
    router_and_api: tuple[EventRouter, RecordingApi],
) -> None:
    router, api = router_and_api
    await router(posted_event("certification", channel_type="O", mentions=[]))
    await router(posted_event("écrivez à @intra-botte", channel_type="O"))
    assert api.posts == []


@pytest.mark.parametrize(
    "event",
    [
        posted_event("certification", user_id=BOT_ID),
        posted_event("certification", user_id=OTHER_BOT_ID, props={"from_bot": "true"}),
        posted_event("alice joined", post_type="system_join_channel"),
    ],
)
async def test_own_bot_and_system_posts_are_ignored(
    router_and_api: tuple[EventRouter, RecordingApi], event: dict[str, Any]
) -> None:
    router, api = router_and_api
    await router(event)
    assert api.posts == []


async def test_the_same_post_is_never_answered_twice(
    router_and_api: tuple[EventRouter, RecordingApi],
) -> None:
    router, api = router_and_api
    event = posted_event("club", post_id="samepost")
    await router(event)
    await router(event)  # replayed after a resume
    assert len(api.posts) == 1


async def test_joiner_of_public_channel_gets_one_welcome_dm(
    router_and_api: tuple[EventRouter, RecordingApi],
) -> None:
    router, api = router_and_api
    event = {
        "event": "user_added",
        "data": {"user_id": ALICE_ID, "team_id": "t"},
        "broadcast": {"channel_id": PUBLIC_ID, "user_id": "", "omit_users": None, "team_id": ""},
        "seq": 3,
    }
    await router(event)
    await router(event)  # the server sends it twice (to the channel and to the user)
    await router({**event, "broadcast": {**event["broadcast"], "channel_id": "other"}})
    assert len(api.posts) == 1
    assert api.posts[0]["channel_id"] == f"dm-{ALICE_ID}"
    assert "/intra rejoindre" in api.posts[0]["message"]


def _private_router(tmp_path: Path, api: RecordingApi) -> EventRouter:
    """A router whose « demandes » answers like the invitations service: to the asker only."""
    conversation = Conversation(ContentSource())

    class Listing:
        @asker_only
        async def pending(self, _message: Message, _rest: str) -> Reply:
            return Reply("**1 demande en attente** : Camille Testeuse, « je suis intra »")

    conversation.register("demandes", Listing().pending)
    store = Store.open(f"sqlite:///{tmp_path}/private.db")
    return EventRouter(
        api,  # type: ignore[arg-type]
        store,
        conversation,
        BotIdentity(BOT_ID, "intra-bot"),
        WelcomeSettings(channel_id=PUBLIC_ID, enabled=False),
        greeter_for(api, store, bot_id=BOT_ID),
    )


async def test_a_private_reply_to_a_channel_mention_goes_by_dm_with_a_pointer(
    tmp_path: Path,
) -> None:
    api = RecordingApi()
    router = _private_router(tmp_path, api)
    await router(
        posted_event("@intra-bot demandes", channel_type="O", mentions=[BOT_ID], post_id="root2")
    )
    by_channel = {post["channel_id"]: post for post in api.posts}
    assert set(by_channel) == {f"dm-{ALICE_ID}", "dmchannel00000000000000000"}
    assert "Camille Testeuse" in by_channel[f"dm-{ALICE_ID}"]["message"]
    public = by_channel["dmchannel00000000000000000"]
    assert public["root_id"] == "root2"
    assert "Camille" not in public["message"] and "message privé" in public["message"]


async def test_a_private_reply_in_a_dm_stays_in_the_dm(tmp_path: Path) -> None:
    api = RecordingApi()
    await _private_router(tmp_path, api)(posted_event("demandes"))
    assert [post["channel_id"] for post in api.posts] == ["dmchannel00000000000000000"]
    assert "Camille Testeuse" in api.posts[0]["message"]


async def test_when_the_dm_fails_nothing_private_is_posted_in_public(tmp_path: Path) -> None:
    class NoDirect(RecordingApi):
        async def direct_channel(self, a: str, b: str) -> str:
            raise MattermostUnavailable("connection refused")

    api = NoDirect()
    await _private_router(tmp_path, api)(
        posted_event("@intra-bot demandes", channel_type="O", mentions=[BOT_ID])
    )
    assert api.posts == []
