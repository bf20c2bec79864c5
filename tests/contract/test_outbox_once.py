"""A retried outbox message first looks for its own earlier copy (by the key in its props):
an attempt that died after Mattermost created the post does not make it send twice."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from bot.adapters.mattermost.api import MattermostUnavailable, UserInfo
from bot.adapters.mattermost.events import BotIdentity, EventRouter
from bot.adapters.mattermost.platform import MattermostPlatform
from bot.adapters.mattermost.poster import MARKER_PROP
from bot.adapters.mattermost.render import SignedButtons
from bot.answers.conversation import Conversation
from bot.answers.welcome import WELCOME, WelcomeSettings
from bot.chat import Reply
from bot.content.loader import ContentSource
from bot.outbox.store import Job, OutboxStore
from bot.outbox.worker import OutboxWorker
from bot.store import Store
from tests.contract.payloads import BOT_ID, posted_event
from tests.fakes import FakeClock


class PostsApi:
    """POST /posts and GET /channels/{id}/posts?since= over one list of posts."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []

    async def direct_channel(self, a: str, b: str) -> str:
        return f"dm-{b}"

    async def create_post(
        self, channel_id: str, message: str, *, root_id: str = "", props: Any = None
    ) -> str:
        post_id = f"post{len(self.posts) + 1}"
        self.posts.append(
            {"id": post_id, "channel_id": channel_id, "message": message, "props": props or {}}
        )
        return post_id

    async def posts_since(self, channel_id: str, since_ms: int) -> list[dict[str, Any]]:
        return [p for p in self.posts if p["channel_id"] == channel_id]


def platform(api: PostsApi) -> MattermostPlatform:
    signer = SignedButtons(b"s" * 32, "http://bot/mattermost/action")
    return MattermostPlatform(api, "team", "private", "bot", "intra-bot", signer)  # type: ignore[arg-type]


def test_a_retry_finds_the_copy_sent_by_the_attempt_that_died() -> None:
    api = PostsApi()
    mm = platform(api)
    first = asyncio.run(mm.send_direct("u1", Reply("bonjour"), key="invitation:1:notice:@m"))
    assert api.posts[0]["props"][MARKER_PROP] == "invitation:1:notice:@m"
    again = asyncio.run(
        mm.send_direct("u1", Reply("bonjour"), key="invitation:1:notice:@m", retry=True)
    )
    assert again == first and len(api.posts) == 1


def test_a_retry_with_no_earlier_copy_sends_and_other_keys_are_not_confused() -> None:
    api = PostsApi()
    mm = platform(api)
    asyncio.run(mm.send_direct("u1", Reply("a"), key="k1"))
    asyncio.run(mm.send_direct("u1", Reply("b"), key="k2", retry=True))
    asyncio.run(mm.send_direct("u1", Reply("c")))  # no key: always sent
    asyncio.run(mm.send_direct("u1", Reply("c")))
    assert [p["message"] for p in api.posts] == ["a", "b", "c", "c"]


class WelcomeApi(PostsApi):
    async def user(self, user_id: str) -> UserInfo:
        return UserInfo(id=user_id, username="newcomer")


def test_a_retried_welcome_is_not_sent_again(tmp_path: Path) -> None:
    api = WelcomeApi()
    router = EventRouter(
        api,  # type: ignore[arg-type]
        Store.open(f"sqlite:///{tmp_path}/s.db"),
        Conversation(ContentSource()),
        BotIdentity("bot", "intra-bot"),
        WelcomeSettings(channel_id="public", enabled=True),
    )
    job = Job("welcome:u1", WELCOME, {"user_id": "u1"}, attempts=1)
    asyncio.run(router.send_welcome(job))
    assert api.posts[0]["props"][MARKER_PROP] == "welcome:u1"
    # The process died before marking it done; the takeover finds the welcome already there.
    asyncio.run(router.send_welcome(Job("welcome:u1", WELCOME, {"user_id": "u1"}, attempts=2)))
    assert len(api.posts) == 1
    asyncio.run(router.send_welcome(Job("welcome:u2", WELCOME, {"user_id": "u2"}, attempts=2)))
    assert len(api.posts) == 2  # a retry with no earlier copy does send


class RestartingApi(WelcomeApi):
    """Mattermost going down mid-answer: create_post fails while `down`; with `lands`, the
    failed POST had reached the server (the answer was lost, not the post)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.lands = False

    async def create_post(
        self, channel_id: str, message: str, *, root_id: str = "", props: Any = None
    ) -> str:
        if self.down:
            if self.lands:
                await super().create_post(channel_id, message, root_id=root_id, props=props)
            raise MattermostUnavailable("posts/create: ConnectError")
        return await super().create_post(channel_id, message, root_id=root_id, props=props)


def restarting_router(tmp_path: Path) -> tuple[EventRouter, RestartingApi, OutboxWorker, FakeClock]:
    api, clock = RestartingApi(), FakeClock()
    store = Store.open(f"sqlite:///{tmp_path}/s.db")
    worker = OutboxWorker(OutboxStore(store), "w", clock=clock)
    router = EventRouter(
        api,  # type: ignore[arg-type]
        store,
        Conversation(ContentSource()),
        BotIdentity(BOT_ID, "intra-bot"),
        WelcomeSettings(channel_id="public", enabled=True),
        outbox=worker,
    )
    return router, api, worker, clock


def test_a_reply_that_fails_while_mattermost_restarts_is_sent_once_it_is_back(
    tmp_path: Path,
) -> None:
    router, api, worker, clock = restarting_router(tmp_path)
    asyncio.run(router(posted_event("certification", post_id="q1")))
    assert api.posts == []
    api.down = False
    clock.now += dt.timedelta(seconds=3)
    assert asyncio.run(worker.run_due()) == 1
    assert len(api.posts) == 1 and "RS6247" in api.posts[0]["message"]
    asyncio.run(router(posted_event("certification", post_id="q1")))  # replayed: no second
    assert asyncio.run(worker.run_due()) == 0 and len(api.posts) == 1


def test_a_reply_whose_answer_was_lost_is_not_sent_twice(tmp_path: Path) -> None:
    router, api, worker, clock = restarting_router(tmp_path)
    api.lands = True
    asyncio.run(router(posted_event("certification", post_id="q2")))
    api.down = False
    clock.now += dt.timedelta(seconds=3)
    asyncio.run(worker.run_due())
    assert len(api.posts) == 1
