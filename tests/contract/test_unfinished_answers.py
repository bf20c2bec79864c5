"""Claimed means answered, on Mattermost: a question claimed by a process that died before
its reply is answered by another one after the lease, once; a reply that did get through
is found by its key and not posted again."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.mattermost.events import BotIdentity, EventRouter
from bot.adapters.mattermost.poster import MARKER_PROP
from bot.adapters.mattermost.unfinished import UnfinishedAnswers
from bot.answers.conversation import Conversation
from bot.answers.welcome import WelcomeSettings
from bot.clock import utc_now
from bot.content.loader import ContentSource
from bot.store import Store
from tests.contract.payloads import BOT_ID, posted_event
from tests.contract.test_catchup import DM, PUBLIC, FakeApi, epoch_ms, post
from tests.contract.wiring import greeter_for

LEASE = dt.timedelta(minutes=3)
WINDOW = dt.timedelta(hours=24)


class PostingApi(FakeApi):
    """The catch-up's fake server, whose created posts (props and all) can be read back."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_posts = False

    async def create_post(
        self, channel_id: str, message: str, *, root_id: str = "", props: Any = None
    ) -> str:
        if self.fail_posts:
            raise RuntimeError("the process dies here")
        reply_id = await super().create_post(channel_id, message, root_id=root_id, props=props)
        at = epoch_ms(utc_now())
        self.posts.setdefault(channel_id, []).append(
            post(reply_id, channel_id, message, at, user_id=BOT_ID, props=dict(props or {}))
        )
        return reply_id


@pytest.fixture
def parts(tmp_path: Path) -> tuple[UnfinishedAnswers, EventRouter, PostingApi, Store]:
    api = PostingApi()
    store = Store.open(f"sqlite:///{tmp_path}/store.db")
    router = EventRouter(
        api,  # type: ignore[arg-type]
        store,
        Conversation(ContentSource()),
        BotIdentity(BOT_ID, "intra-bot"),
        WelcomeSettings(channel_id=PUBLIC, enabled=True),
        greeter_for(api, store, bot_id=BOT_ID),
        answer_lease=LEASE,
    )
    sweep = UnfinishedAnswers(api, store, router, WINDOW)  # type: ignore[arg-type]
    return sweep, router, api, store


def asked(api: PostingApi, post_id: str, ago: dt.timedelta) -> dict[str, Any]:
    question = post(post_id, DM, "certification", epoch_ms(utc_now() - ago))
    api.posts[DM].append(question)
    return question


def replies(api: PostingApi) -> list[dict[str, Any]]:
    return [p for p in api.posts[DM] if p["user_id"] == BOT_ID]


def test_a_question_whose_holder_died_is_answered_after_the_lease_once(
    parts: tuple[UnfinishedAnswers, EventRouter, PostingApi, Store],
) -> None:
    sweep, _, api, store = parts
    asked(api, "q1", dt.timedelta(minutes=5))
    assert store.claim_answer(
        "post:q1", "dead", utc_now() - LEASE - dt.timedelta(seconds=1), LEASE, DM
    )
    assert asyncio.run(sweep.once()) == 1
    assert len(replies(api)) == 1 and "RS6247" in replies(api)[0]["message"]
    assert asyncio.run(sweep.once()) == 0  # done now
    assert len(replies(api)) == 1


def test_a_reply_the_dead_holder_posted_is_found_and_not_posted_again(
    parts: tuple[UnfinishedAnswers, EventRouter, PostingApi, Store],
) -> None:
    sweep, router, api, store = parts
    question = asked(api, "q1", dt.timedelta(minutes=5))
    # The dead process posted its reply, and died before marking the claim done.
    asyncio.run(api.create_post(DM, "réponse", props={MARKER_PROP: f"reply:q1:{DM}"}))
    assert store.claim_answer("post:q1", "dead", utc_now() - LEASE * 2, LEASE, DM)
    assert asyncio.run(sweep.once()) == 1
    assert len(replies(api)) == 1
    assert asyncio.run(sweep.once()) == 0
    # and the post coming again (a catch-up) is not answered either
    asyncio.run(router(posted_event("certification", post_id=question["id"])))
    assert len(replies(api)) == 1


def test_a_question_held_by_a_live_process_is_left_to_it(
    parts: tuple[UnfinishedAnswers, EventRouter, PostingApi, Store],
) -> None:
    sweep, router, api, store = parts
    asked(api, "q1", dt.timedelta(minutes=1))
    assert store.claim_answer("post:q1", "alive", utc_now(), LEASE, DM)
    assert asyncio.run(sweep.once()) == 0
    asyncio.run(router(posted_event("certification", post_id="q1")))  # a catch-up's copy
    assert replies(api) == []


def test_a_reply_cut_off_by_a_crash_leaves_the_claim_to_be_taken_over(
    parts: tuple[UnfinishedAnswers, EventRouter, PostingApi, Store],
) -> None:
    sweep, router, api, store = parts
    asked(api, "q1", dt.timedelta(seconds=1))
    api.fail_posts = True
    with pytest.raises(RuntimeError):
        asyncio.run(router(posted_event("certification", post_id="q1")))
    api.fail_posts = False
    later = utc_now() + LEASE + dt.timedelta(seconds=1)
    [left] = store.unfinished_answers("post:", later, utc_now() - WINDOW)
    assert left.key == "post:q1" and left.place == "dmchannel00000000000000000"
    assert asyncio.run(sweep.once()) == 0  # not before its lease ran out
    late = UnfinishedAnswers(api, store, router, WINDOW, clock=lambda: later)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bot.adapters.mattermost.events.utc_now", lambda: later)
        assert asyncio.run(late.once()) == 1
    assert len(replies(api)) == 1


def test_a_question_answered_live_is_done(
    parts: tuple[UnfinishedAnswers, EventRouter, PostingApi, Store],
) -> None:
    _, router, api, store = parts
    asked(api, "q1", dt.timedelta(seconds=1))
    asyncio.run(router(posted_event("certification", post_id="q1")))
    assert len(replies(api)) == 1
    much_later = utc_now() + dt.timedelta(hours=1)
    assert store.unfinished_answers("post:", much_later, utc_now() - WINDOW) == []


def test_a_question_deleted_since_is_given_up(
    parts: tuple[UnfinishedAnswers, EventRouter, PostingApi, Store],
) -> None:
    sweep, _, api, store = parts
    assert store.claim_answer("post:gone", "dead", utc_now() - LEASE * 2, LEASE, DM)
    assert asyncio.run(sweep.once()) == 0
    assert store.unfinished_answers("post:", utc_now(), utc_now() - WINDOW) == []
    assert replies(api) == []
