"""Fair shares on a real Synapse, at Tchap's pace: one person's flood of questions does not
hold another person's answer, and the flooder is told to slow down exactly once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.answers.budget import QuestionBudget
from bot.answers.conversation import Conversation
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.store import Store
from tests.e2e_matrix.bot_runner import RunningBot
from tests.e2e_matrix.conftest import SynapseServer, bot_settings
from tests.e2e_matrix.nio_user import NioUser, Seen

pytestmark = pytest.mark.e2e

FLOOD = 30
SLOW_DOWN = "Doucement"
# Generous: at one request a second the bot needs a few for the other person's answer
# (room keys, the reply); the flood's answers must not all go first (about 30 s unfair).
OTHER_ANSWER_WITHIN_S = 15.0
# How long the bot must have made no request before the flood: the rooms' keys are shared.
QUIET_BEFORE_FLOOD_S = 2.0
# Taking turns, the other person's answer comes within this; first in, first out, it would
# come after the QUEUED answers waiting when they ask, at one a second: well after.
TAKING_TURNS_WITHIN_S = 10.0
QUEUED = 14


async def bucket_full_and_quiet(running: RunningBot) -> None:
    """Return once the bot's bucket is full again and it has made no request for
    `QUIET_BEFORE_FLOOD_S`, as on a quiet day (rather than sleeping a whole bucket's refill)."""
    limiter = running.adapter.limiter
    deadline = time.monotonic() + 30
    seen, since = limiter.requests, time.monotonic()
    while True:
        now = time.monotonic()
        if limiter.requests != seen or limiter.waiting:
            seen, since = limiter.requests, now
        limiter._refill()  # the bucket's level as of now
        if limiter._tokens >= limiter.burst and now - since >= QUIET_BEFORE_FLOOD_S:
            return
        assert now < deadline, "the bot's requests never quietened down"
        await asyncio.sleep(0.05)


@pytest.fixture
async def paced_bot(synapse: SynapseServer, bot_home: Path) -> AsyncIterator[RunningBot]:
    """The bot at Tchap's pace (1 request/s, burst 10), with the default share per person."""
    async for running in _paced(synapse, bot_home, QuestionBudget(per_minute=6, burst=6)):
        yield running


@pytest.fixture
async def unlimited_bot(synapse: SynapseServer, bot_home: Path) -> AsyncIterator[RunningBot]:
    """The bot at Tchap's pace with no share per person: every question is answered."""
    async for running in _paced(synapse, bot_home, None):
        yield running


async def _paced(
    synapse: SynapseServer, bot_home: Path, budget: QuestionBudget | None
) -> AsyncIterator[RunningBot]:
    store_url = f"sqlite:///{bot_home / 'intra-bot.sqlite3'}"
    store = Store.open(store_url)
    conversation = Conversation(ContentSource(DEFAULT_CONTENT_DIR), budget=budget)
    running = RunningBot(
        bot_settings(synapse, requests_per_second=1.0, burst=10), store, store_url, conversation
    )
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        store.close()


def _from_bot(synapse: SynapseServer, room: str) -> object:
    return lambda e: e.room_id == room and e.sender == synapse.bot_user_id and e.is_message


async def test_a_flood_does_not_hold_another_persons_answer(
    synapse: SynapseServer, alice: NioUser, bruno: NioUser, paced_bot: RunningBot
) -> None:
    flood_room = await alice.create_dm(synapse.bot_user_id, encrypted=True)
    other_room = await bruno.create_dm(synapse.bot_user_id, encrypted=True)
    await alice.wait_joined(flood_room, synapse.bot_user_id)
    await bruno.wait_joined(other_room, synapse.bot_user_id)
    # Both rooms' keys shared and the bot's bucket full again, as on a quiet day.
    await bucket_full_and_quiet(paced_bot)

    alice_mark, bruno_mark = alice.mark(), bruno.mark()
    for n in range(FLOOD):
        await alice.send_text(flood_room, "qui sont les référents ?" if n % 2 else "aide")
    asked = time.monotonic()
    await bruno.send_text(other_room, "certification")
    answer = await bruno.wait_for(
        "the answer to the other person",
        _from_bot(synapse, other_room),  # type: ignore[arg-type]
        after=bruno_mark,
        timeout=60,
    )
    waited = time.monotonic() - asked
    assert not answer.undecryptable
    assert waited < OTHER_ANSWER_WITHIN_S, f"the other person waited {waited:.1f} s"

    # The flooder: six answers (the share), one « Doucement », then nothing.
    def bot_messages() -> list[Seen]:
        bot = _from_bot(synapse, flood_room)
        return [e for e in alice.seen[alice_mark:] if bot(e)]  # type: ignore[operator]

    await alice.wait_for(
        "the slow-down",
        lambda e: e.room_id == flood_room and SLOW_DOWN in e.content.get("body", ""),
        after=alice_mark,
        timeout=60,
    )
    deadline = time.monotonic() + 8  # nothing more comes: silence until the share is back
    while time.monotonic() < deadline:
        await alice.sync(timeout_ms=1000)
    replies = bot_messages()
    slow_downs = [e for e in replies if SLOW_DOWN in e.content.get("body", "")]
    assert len(slow_downs) == 1, [e.content.get("body", "")[:40] for e in replies]
    assert len(replies) == 7, [e.content.get("body", "")[:40] for e in replies]


async def test_replies_take_turns_so_a_burst_of_answers_does_not_go_first(
    synapse: SynapseServer, alice: NioUser, bruno: NioUser, unlimited_bot: RunningBot
) -> None:
    flood_room = await alice.create_dm(synapse.bot_user_id, encrypted=True)
    other_room = await bruno.create_dm(synapse.bot_user_id, encrypted=True)
    await alice.wait_joined(flood_room, synapse.bot_user_id)
    await bruno.wait_joined(other_room, synapse.bot_user_id)
    for user, room in ((alice, flood_room), (bruno, other_room)):  # room keys shared
        mark = user.mark()
        await user.send_text(room, "aide")
        await user.wait_for("a first answer", _from_bot(synapse, room), after=mark)  # type: ignore[arg-type]
    await bucket_full_and_quiet(unlimited_bot)

    for _ in range(30):  # thirty answers to send, one a second past the burst
        await alice.send_text(flood_room, "certification")
    # The burst spent on them, the rest queued: first in, first out, the other person's
    # answer would wait for at least QUEUED of hers, at one a second: longer than the bound.
    limiter = unlimited_bot.adapter.limiter
    deadline = time.monotonic() + 20
    while limiter.waiting < QUEUED:
        assert time.monotonic() < deadline, f"only {limiter.waiting} requests queued"
        await asyncio.sleep(0.02)
    bruno_mark = bruno.mark()
    asked = time.monotonic()
    await bruno.send_text(other_room, "certification")
    await bruno.wait_for(
        "the answer to the other person",
        _from_bot(synapse, other_room),  # type: ignore[arg-type]
        after=bruno_mark,
        timeout=60,
    )
    waited = time.monotonic() - asked
    # First in, first out, it would come after alice's remaining answers (QUEUED s or more);
    # taking turns, after one of hers (a second or two, and the syncs' own).
    assert waited < TAKING_TURNS_WITHIN_S, f"the other person waited {waited:.1f} s"
