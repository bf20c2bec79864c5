"""Reading back hundreds of channels and thousands of posts, against a local server that answers the REST routes
as Mattermost does: `/users/me/channels` streams every channel, `/channels/{id}/posts`
pages back from the newest (200 at most) and, asked `?since=`, reads at most 1000 posts
updated since in no order (`SqlPostStore.GetPostsSince`: `LIMIT 1000`, no `ORDER BY`),
which with its index means the oldest ones."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.mattermost.api import MattermostApi
from bot.adapters.mattermost.catchup import MARK, CatchUp, epoch_ms
from bot.adapters.mattermost.events import BotIdentity, EventRouter
from bot.adapters.mattermost.pages import LIMIT, PAGE_SIZE
from bot.adapters.mattermost.platform import MattermostPlatform
from bot.adapters.mattermost.poster import MARKER_PROP
from bot.adapters.mattermost.render import SignedButtons
from bot.answers.conversation import Conversation
from bot.answers.welcome import WelcomeSettings
from bot.chat import Reply
from bot.content.loader import ContentSource
from bot.store import Store
from tests.contract.fake_rest import Call, FakeRest, error, serving
from tests.contract.payloads import ALICE_ID, BOT_ID
from tests.contract.wiring import greeter_for

NOW = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)
NOW_MS = epoch_ms(NOW)
MARK_MS = NOW_MS - 3_600_000  # the bot last handled an event an hour ago
PUBLIC = "publicchannel0000000000000"
SIGNER = SignedButtons(b"k" * 32, "http://bot/mattermost/action")


def channel_id(n: int) -> str:
    return f"dm{n:04d}".ljust(26, "0")


@dataclass
class Server:
    """The posts of each channel, and the routes that read them."""

    posts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def post(self, channel: str, at: int, message: str, user_id: str = ALICE_ID) -> None:
        posts = self.posts.setdefault(channel, [])
        post_id = f"p{channel[2:6]}x{len(posts):06d}".ljust(26, "0")
        posts.append(
            {"id": post_id, "create_at": at, "update_at": at, "delete_at": 0, "edit_at": 0,
             "user_id": user_id, "channel_id": channel, "root_id": "", "original_id": "",
             "message": message, "type": "", "props": {}, "hashtags": "", "pending_post_id": ""}
        )  # fmt: skip

    def channels(self, _call: Call) -> tuple[int, Any]:
        return 200, [
            {"id": cid, "create_at": MARK_MS - 86_400_000, "update_at": MARK_MS - 86_400_000,
             "delete_at": 0, "team_id": "", "type": "D", "display_name": "",
             "name": f"{BOT_ID}__{cid}", "header": "", "purpose": "",
             "last_post_at": max(p["create_at"] for p in posts), "total_msg_count": len(posts),
             "creator_id": "", "last_root_post_at": max(p["create_at"] for p in posts)}
            for cid, posts in self.posts.items()
        ]  # fmt: skip

    def channel_posts(self, call: Call) -> tuple[int, Any]:
        posts = self.posts[call.path.split("/")[2]]
        if "since" in call.query:
            since = int(call.query["since"])
            chosen = sorted((p for p in posts if p["update_at"] > since), key=_updated)[:1000]
        else:
            live = sorted((p for p in posts if not p["delete_at"]), key=_created, reverse=True)
            if "before" in call.query:
                pivot = next(p for p in posts if p["id"] == call.query["before"])
                live = [p for p in live if p["create_at"] < pivot["create_at"]]
            size = min(int(call.query.get("per_page", 60)), 200)
            start = int(call.query.get("page", 0)) * size
            chosen = live[start : start + size]
        return 200, {"order": [p["id"] for p in chosen], "posts": {p["id"]: p for p in chosen},
                     "next_post_id": "", "prev_post_id": "", "has_next": False}  # fmt: skip

    def create(self, call: Call) -> tuple[int, Any]:
        self.sent.append(call.body)
        return 201, {"id": f"reply{len(self.sent)}".ljust(26, "0"), **call.body}

    def install(self, fake: FakeRest) -> None:
        fake.on("GET", "/users/me/channels", self.channels)
        fake.on("GET", r"/channels/[a-z0-9]+/posts", self.channel_posts)
        fake.on("GET", r"/users/[a-z0-9]+", (200, {"id": ALICE_ID, "username": "alice.intra"}))
        fake.on("POST", "/posts", self.create)


def _created(post: dict[str, Any]) -> int:
    return int(post["create_at"])


def _updated(post: dict[str, Any]) -> int:
    return int(post["update_at"])


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Server, FakeRest, MattermostApi, CatchUp]]:
    server = Server()
    async with serving() as (fake, api):
        server.install(fake)
        store = Store.open(f"sqlite:///{tmp_path}/store.db")
        store.set_value(MARK, str(MARK_MS))
        router = EventRouter(
            api,
            store,
            Conversation(ContentSource()),
            BotIdentity(BOT_ID, "intra-bot"),
            WelcomeSettings(channel_id=PUBLIC, enabled=True),
            greeter_for(api, store, bot_id=BOT_ID),
        )
        catchup = CatchUp(api, store, router, PUBLIC, dt.timedelta(hours=24), clock=lambda: NOW)
        yield server, fake, api, catchup


async def test_a_missed_dm_in_the_300th_of_500_channels_is_answered_behind_1200_newer_posts(
    world: tuple[Server, FakeRest, MattermostApi, CatchUp],
) -> None:
    server, fake, _, catchup = world
    for n in range(1, 501):  # a year of welcomes: 500 DM channels, all quiet since the mark
        server.post(channel_id(n), MARK_MS - 86_400_000 + n, "Bienvenue !", user_id=BOT_ID)
    busy = channel_id(300)
    server.post(busy, MARK_MS + 1_000, "certification")  # missed while the bot was away
    for i in range(1200):  # then 1200 posts, more than one `?since=` read gives
        server.post(busy, MARK_MS + 2_000 + i, f"note {i}", user_id=BOT_ID)
    server.post(busy, NOW_MS - 1_000, "club")  # and the newest one
    report = await catchup.run()
    assert report is not None and report.channels == 1 and report.posts == 2
    assert [post["channel_id"] for post in server.sent] == [busy, busy]
    assert "RS6247" in server.sent[0]["message"]  # « certification », found 7 pages back
    reads = [c for c in fake.calls if c.path.endswith("/posts") and c.method == "GET"]
    assert {c.path for c in reads} == {f"/channels/{busy}/posts"}  # the 499 quiet: not read
    assert len(reads) == 1202 // PAGE_SIZE + 1
    assert all("since" not in c.query for c in reads)
    assert [c.query.get("before") for c in reads[1:]] == [
        server.posts[busy][-PAGE_SIZE * k]["id"] for k in range(1, len(reads))
    ]


async def test_a_very_busy_channel_is_read_back_up_to_the_limit(
    world: tuple[Server, FakeRest, MattermostApi, CatchUp], caplog: pytest.LogCaptureFixture
) -> None:
    server, fake, api, _ = world
    busy = channel_id(7)
    for i in range(LIMIT + 300):
        server.post(busy, MARK_MS + i, f"note {i}", user_id=BOT_ID)
    with caplog.at_level(logging.WARNING):
        posts = await api.posts_since(busy, MARK_MS)
    assert len(posts) == LIMIT
    assert posts[0]["message"] == f"note {LIMIT + 299}"  # the newest first
    assert len(fake.calls) == LIMIT // PAGE_SIZE + 1
    assert "event=posts_read_back_capped" in caplog.text


async def test_a_channel_the_bot_can_no_longer_read_does_not_stop_the_others(
    world: tuple[Server, FakeRest, MattermostApi, CatchUp],
) -> None:
    server, fake, _, catchup = world
    gone, kept = channel_id(1), channel_id(2)
    server.post(gone, MARK_MS + 1_000, "club")
    server.post(kept, MARK_MS + 2_000, "certification")
    fake.on("GET", f"/channels/{gone}/posts", (403, error(403, "api.context.permissions.app_error")))  # fmt: skip
    report = await catchup.run()
    assert report is not None and report.posts == 1
    assert [post["channel_id"] for post in server.sent] == [kept]


async def test_a_retried_notice_finds_its_copy_in_a_dm_with_1500_posts_of_the_day(
    world: tuple[Server, FakeRest, MattermostApi, CatchUp],
) -> None:
    """The test server after a day of runs: a referent's DM holds more posts of the last
    24 hours than one `?since=` read gives; the copy a killed attempt made is the newest."""
    server, fake, api, _ = world
    dm, now = channel_id(42), int(time.time() * 1000)
    for i in range(1500):
        server.post(dm, now - 80_000_000 + i * 50_000, f"notice {i}", user_id=BOT_ID)
    server.post(dm, now - 1_000, "Une demande", user_id=BOT_ID)
    server.posts[dm][-1]["props"] = {MARKER_PROP: "invitation:7:notice:@magali.marcel"}
    fake.on("POST", "/channels/direct", (201, {"id": dm}))
    platform = MattermostPlatform(api, "domaine-intras-prive", SIGNER)
    platform.bind("team1", BOT_ID, "intra-bot")
    sent = await platform.send_direct(
        "u-magali", Reply("Une demande"), key="invitation:7:notice:@magali.marcel", retry=True
    )
    assert sent == (dm, server.posts[dm][-1]["id"])
    assert server.sent == []
