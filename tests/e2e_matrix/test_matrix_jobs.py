"""Club reminders in the real Synapse room: once with two replicas, once after a replica died.

Two `BotApp`s (Matrix only) share one SQLite store and one bot device, as two replicas
would; they race for the same reminder through the store's claim, and the room's history
(read by the admin, a member) must hold exactly one copy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.matrix.platform import KEY_FIELD
from bot.clock import utc_now
from bot.club import reminders
from bot.schema import reminder_posts
from bot.store import Store
from tests.e2e_matrix.apps import matrix_only, room_events, started, until
from tests.e2e_matrix.conftest import SynapseServer

pytestmark = pytest.mark.e2e


def copies(synapse: SynapseServer, marker: str, since_ms: int) -> list[str]:
    return [
        str(event["event_id"])
        for event in room_events(synapse, synapse.public_room_id)
        if event["content"].get(KEY_FIELD) == marker and event["origin_server_ts"] >= since_ms
    ]


async def test_two_replicas_post_a_reminder_once_even_when_one_dies_after_posting(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    settings = matrix_only(synapse, url)
    first = await started(settings)
    # Started second: it finds the first one's session in the store (same device).
    second = await started(settings)
    store = Store.open(url)
    try:
        began_ms = int(utc_now().timestamp() * 1000) - 5_000  # the homeserver's clock may lag
        upcoming = [i for i in first.club.planned(utc_now()) if i.at > utc_now()]
        racing, next_item = upcoming[:5], upcoming[5]

        # Both replicas fire the same reminders at the same moment, five times over.
        for item in racing:
            posted = await asyncio.gather(first.club.fire(item), second.club.fire(item))
            assert sorted(posted) == [False, True], item.key
        for item in racing:
            marker = f"reminder:matrix:{item.key}"
            found = copies(synapse, marker, began_ms)
            assert len(found) == 1, (item.key, found)
            assert store.reminder_states([f"matrix:{item.key}"]) == {f"matrix:{item.key}": "posted"}
        event = next(
            e for e in room_events(synapse, synapse.public_room_id) if e["event_id"] == found[0]
        )
        assert event["sender"] == synapse.bot_user_id
        assert event["content"]["msgtype"] == "m.notice"
        assert event["content"]["m.mentions"] == {}

        # The first replica claims the next one, posts it, and dies before recording it.
        key = f"matrix:{next_item.key}"
        assert store.claim_reminder(key, "dying-replica", utc_now(), dt.timedelta(seconds=1))
        text = reminders.render(next_item, first.club.club)
        assert first.matrix is not None
        dead_post = await first.matrix.platform.post_marked(
            settings.matrix.public_room, text, f"reminder:{key}"
        )
        await first.stop()

        async def taken_over() -> bool:
            await second.club.fire(next_item)  # claimed elsewhere until the lease runs out
            return store.reminder_states([key]) == {key: "posted"}

        await until("the second replica's takeover", taken_over)
        assert copies(synapse, f"reminder:{key}", began_ms) == [dead_post]
        with store.engine.connect() as connection:
            recorded = connection.execute(
                select(reminder_posts.c.post_id).where(reminder_posts.c.key == key)
            ).scalar_one()
        assert recorded == dead_post  # found in the room, not posted again
    finally:
        store.close()
        for app in (first, second):
            if not app.stop_event.is_set():
                await app.stop()
