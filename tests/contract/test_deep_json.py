"""A post whose props nest 100,000 levels deep (anyone can post one through the API) is
skipped with a warning naming it; the posts around it are still answered, live and in
the catch-up, and nothing raises `RecursionError`."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.mattermost.api import MattermostApi
from bot.adapters.mattermost.catchup import MARK, CatchUp, epoch_ms
from bot.adapters.mattermost.deep_json import loads_page
from bot.adapters.mattermost.events import BotIdentity, EventRouter
from bot.answers.conversation import Conversation
from bot.answers.welcome import WelcomeSettings
from bot.content.loader import ContentSource
from bot.store import Store
from tests.contract.fake_rest import Call, FakeRest, Raw, serving
from tests.contract.payloads import ALICE_ID, BOT_ID
from tests.contract.wiring import greeter_for

NOW = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)
NOW_MS = epoch_ms(NOW)
DM = "dmchannel00000000000000000"
PUBLIC = "publicchannel0000000000000"
DEEP = '{"a":' * 100_000 + "1" + "}" * 100_000
BAD = "badpost0000000000000000000"


def post(post_id: str, message: str, at: int) -> dict[str, Any]:
    return {"id": post_id, "create_at": at, "update_at": at, "delete_at": 0, "edit_at": 0,
            "user_id": ALICE_ID, "channel_id": DM, "root_id": "", "original_id": "",
            "message": message, "type": "", "props": {"deep": "DEEP"}, "hashtags": ""}  # fmt: skip


def page_text(posts: list[dict[str, Any]]) -> str:
    """Mattermost's page of posts, the bad one's props written 100,000 levels deep."""
    newest_first = sorted(posts, key=lambda p: -p["create_at"])
    page = {"order": [p["id"] for p in newest_first], "posts": {p["id"]: p for p in posts},
            "next_post_id": "", "prev_post_id": "", "has_next": False}  # fmt: skip
    text = json.dumps(page)
    return text.replace(f'"id": "{BAD}", ', f'"id": "{BAD}", "nested": {DEEP}, ', 1)


@pytest.fixture
async def world(
    tmp_path: Path,
) -> AsyncIterator[tuple[FakeRest, MattermostApi, CatchUp, list[Any]]]:
    sent: list[Any] = []

    def create(call: Call) -> tuple[int, Any]:
        sent.append(call.body)
        return 201, {"id": f"reply{len(sent)}".ljust(26, "0"), **call.body}

    async with serving() as (fake, api):
        fake.on("GET", "/users/me/channels", (200, [
            {"id": DM, "type": "D", "name": f"{BOT_ID}__{ALICE_ID}", "display_name": "",
             "team_id": "", "last_post_at": NOW_MS - 1_000}]))  # fmt: skip
        fake.on("GET", r"/users/[a-z0-9]+", (200, {"id": ALICE_ID, "username": "alice.intra"}))
        fake.on("POST", "/posts", create)
        store = Store.open(f"sqlite:///{tmp_path}/store.db")
        store.set_value(MARK, str(NOW_MS - 600_000))
        router = EventRouter(
            api,
            store,
            Conversation(ContentSource()),
            BotIdentity(BOT_ID, "intra-bot"),
            WelcomeSettings(channel_id=PUBLIC, enabled=True),
            greeter_for(api, store, bot_id=BOT_ID),
        )
        catchup = CatchUp(api, store, router, PUBLIC, dt.timedelta(hours=24), clock=lambda: NOW)
        yield fake, api, catchup, sent


async def test_one_deeply_nested_post_is_skipped_and_the_catch_up_answers_the_others(
    world: tuple[FakeRest, MattermostApi, CatchUp, list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    fake, _, catchup, sent = world
    posts = [
        post("good1".ljust(26, "0"), "certification", NOW_MS - 300_000),
        post(BAD, "club", NOW_MS - 200_000),
        post("good2".ljust(26, "0"), "club", NOW_MS - 100_000),
    ]
    fake.on("GET", rf"/channels/{DM}/posts", (200, Raw(page_text(posts))))
    with caplog.at_level(logging.WARNING):
        report = await catchup.run()
    assert report is not None and report.posts == 2
    assert [body["channel_id"] for body in sent] == [DM, DM]
    assert "RS6247" in sent[0]["message"]  # « certification », the post before the bad one
    skipped = [r.getMessage() for r in caplog.records if "nested_too_deeply" in r.getMessage()]
    assert skipped == [f"event=post_skipped reason=nested_too_deeply post_id={BAD}"]


async def test_any_other_answer_nested_too_deeply_is_an_api_error_not_a_crash(
    world: tuple[FakeRest, MattermostApi, CatchUp, list[Any]],
) -> None:
    from bot.adapters.mattermost.api import MattermostApiError

    fake, api, _, _ = world
    fake.on("GET", r"/users/[a-z0-9]+", (200, Raw('{"id": "x", "props": ' + DEEP + "}")))
    with pytest.raises(MattermostApiError, match="nested too deeply"):
        await api.user(ALICE_ID)


async def test_a_live_deeply_nested_post_is_skipped_with_its_id(
    world: tuple[FakeRest, MattermostApi, CatchUp, list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    _, _, catchup, sent = world
    raw = f'{{"id": "{BAD}", "create_at": {NOW_MS}, "props": {DEEP}, "message": "club"}}'
    event = {"event": "posted", "data": {"channel_type": "D", "post": raw, "mentions": DEEP}}
    with caplog.at_level(logging.WARNING):
        await catchup.handle(event)  # the websocket's handler: the router, then the mark
    assert sent == []
    assert f"event=post_skipped reason=nested_too_deeply post_id={BAD}" in caplog.text


def test_a_page_is_cut_only_where_it_is_too_deep() -> None:
    shallow = {"order": ["p1"], "posts": {"p1": {"id": "p1", "props": {"a": [1, {"b": "}]"}]}}}}
    assert loads_page(json.dumps(shallow)) == (shallow, [])
    text = json.dumps(shallow).replace('"props"', f'"deep": {DEEP}, "props"')
    data, dropped = loads_page(text.encode())
    assert dropped == ["p1"] and data["posts"] == {} and data["order"] == ["p1"]
    with pytest.raises(ValueError):
        loads_page("[" * 100_000)
