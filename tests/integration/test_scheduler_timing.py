"""While the bot runs, the scheduler's date job posts a reminder at its second, once."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from pathlib import Path

import pytest

from bot.clock import utc_now
from bot.club.service import ClubService
from bot.content.loader import ContentSource
from bot.jobs import JobScheduler
from bot.store import Store
from tests.integration.harness import FilePoster, club_at, read_posts, reminder, write_content
from tests.waiting import eventually


@pytest.mark.parametrize(
    "grace",
    [dt.timedelta(hours=6), dt.timedelta(seconds=0.5)],
    ids=["default-grace", "grace-under-a-second"],
)
async def test_the_date_job_posts_at_its_second(
    tmp_path: Path, prefix: str, grace: dt.timedelta
) -> None:
    due = math.ceil(time.time()) + 1
    start = dt.datetime.fromtimestamp(due + 60, dt.UTC)
    content = write_content(
        tmp_path / "content", [reminder(f"{prefix}-m1", "60s")], exceptions=[club_at(start)]
    )
    posts = tmp_path / "posts.jsonl"
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    service = ClubService(
        ContentSource(content),
        store,
        owner="timing",
        channel=FilePoster(posts, utc_now),
        grace=grace,
    )
    scheduler = JobScheduler(service)
    try:
        scheduler.start()  # APScheduler refuses a misfire grace of 0 s: this used to raise
        next_key, next_at = scheduler.next_reminder() or ("", "")
        assert next_key.startswith(f"{prefix}-m1@")
        assert dt.datetime.fromisoformat(next_at).timestamp() == due
        while not read_posts(posts) and time.time() < due + 3:
            await asyncio.sleep(0.01)
        [post] = read_posts(posts)
        late = dt.datetime.fromisoformat(post["at"]).timestamp() - due
        assert 0 <= late < 0.5, f"posted {late:.3f} s after its second"
        # Recorded right after the post; then nothing can post it again: its one date job
        # is gone and the store says « posted », which every later sweep or job reads first.
        await eventually(
            lambda: store.reminder_states([next_key]) == {next_key: "posted"},
            "the post is recorded",
        )
        assert (scheduler.next_reminder() or ("", ""))[0] != next_key
        assert len(read_posts(posts)) == 1
    finally:
        scheduler.shutdown()
        store.close()
