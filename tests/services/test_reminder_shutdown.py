"""A stop during a reminder's post lets the post and its record finish."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.club import agenda, reminders
from bot.club.service import ClubService
from bot.content.loader import ContentSource
from bot.store import Store


class SlowChannel:
    name = "mattermost"

    def __init__(self) -> None:
        self.posting = asyncio.Event()
        self.release = asyncio.Event()
        self.posts: list[str] = []

    async def post_marked(self, channel_name: str, text: str, marker: str) -> str:
        self.posting.set()
        await self.release.wait()
        self.posts.append(marker)
        return "post1"

    async def find_marked(self, channel_name: str, marker: str, since: dt.datetime) -> str | None:
        return None


async def test_cancelled_fire_still_records_its_post(tmp_path: Path) -> None:
    source = ContentSource()
    start = dt.datetime(2026, 12, 3, 16, tzinfo=ZoneInfo("Europe/Paris"))
    occurrence = agenda.Occurrence(start, start + dt.timedelta(hours=1), "au forum")
    item = reminders.plan(source.current.club, [occurrence])[0]
    channel = SlowChannel()
    store = Store.open(f"sqlite:///{tmp_path}/s.db")
    club = ClubService(source, store, owner="me", channel=channel, clock=lambda: item.at)
    job = asyncio.create_task(club.fire(item))
    await asyncio.wait_for(channel.posting.wait(), timeout=30)  # claimed, now posting
    job.cancel()  # what the scheduler's shutdown does to a running job
    channel.release.set()
    await club.drain()
    assert channel.posts == [f"reminder:{item.key}"]
    assert store.reminder_states([item.key]) == {item.key: "posted"}
