"""Restarts: a reminder missed while the bot was down is posted once at start-up if it is
late by less than the grace period; later than that, it is skipped and logged, never posted.

The real `JobScheduler` and `ClubService` run on the real clock, in this process; each
"run" opens the store afresh, as a restarted bot does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.clock import utc_now
from bot.club.service import ClubService
from bot.config import load_settings
from bot.content.loader import ContentSource
from bot.jobs import JobScheduler
from bot.store import Store
from tests.integration.harness import (
    FilePoster,
    club_at,
    planned_for,
    posts_by_marker,
    read_posts,
    reminder,
    reminder_row,
    write_content,
)

HOUR = dt.timedelta(hours=1)


async def start_and_sweep(
    content: Path, store_url: str, posts: Path, grace: dt.timedelta
) -> tuple[str, str] | None:
    """Start the scheduler as `intra-bot run` does, wait for its start-up sweep, stop.

    Returns the next reminder the scheduler planned a date job for.
    """
    store = Store.open(store_url)
    service = ClubService(
        ContentSource(content),
        store,
        owner=f"run-{utc_now().timestamp()}",
        channel=FilePoster(posts, utc_now),
        grace=grace,
    )
    swept = asyncio.Event()
    sweep = service.sweep

    async def sweep_then_signal() -> None:
        await sweep()
        swept.set()

    service.sweep = sweep_then_signal  # type: ignore[method-assign]
    scheduler = JobScheduler(service)
    try:
        scheduler.start()
        await asyncio.wait_for(swept.wait(), timeout=10)
        return scheduler.next_reminder()
    finally:
        scheduler.shutdown()
        store.close()


def _content(tmp_path: Path, prefix: str, missed_before: str) -> tuple[Path, dt.datetime]:
    """A club in an hour; one reminder whose time went by while we were down, one to come."""
    start = utc_now() + HOUR
    content = write_content(
        tmp_path / "content",
        [reminder(f"{prefix}-missed", missed_before), reminder(f"{prefix}-later", "30min")],
        exceptions=[club_at(start)],
    )
    return content, start.replace(microsecond=0)


def _key(content: Path, start: dt.datetime, rid: str) -> str:
    """The store key of reminder `rid` for the club at `start`, as the service plans it."""
    [item] = [item for item in planned_for(content, start, rid) if item.reminder.id == rid]
    return item.key


async def test_missed_within_the_grace_period_is_posted_once_at_start_up(
    tmp_path: Path, store_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    content, start = _content(tmp_path, prefix, "3h")  # due two hours ago
    posts = tmp_path / "posts.jsonl"
    missed, later = (
        _key(content, start, f"{prefix}-missed"),
        _key(content, start, f"{prefix}-later"),
    )
    caplog.set_level("INFO")

    upcoming = await start_and_sweep(content, store_url, posts, grace=6 * HOUR)
    assert posts_by_marker(posts) == {f"reminder:{missed}": 1}
    [post] = read_posts(posts)
    assert post["text"].startswith(f"Rappel {prefix}-missed : club ")
    assert upcoming is not None and upcoming[0] == later  # a date job for the next one
    assert "event=reminder_posted key=" + missed in caplog.text

    caplog.clear()
    await start_and_sweep(content, store_url, posts, grace=6 * HOUR)  # a restart
    assert posts_by_marker(posts) == {f"reminder:{missed}": 1}
    assert "event=reminder_claimed" not in caplog.text
    store = Store.open(store_url)
    try:
        assert reminder_row(store, missed)["state"] == "posted"
        assert store.reminder_states([later]) == {}
    finally:
        store.close()


async def test_missed_beyond_the_grace_period_is_skipped_and_logged_never_posted(
    tmp_path: Path, store_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    content, start = _content(tmp_path, prefix, "8h")  # due seven hours ago
    posts = tmp_path / "posts.jsonl"
    missed = _key(content, start, f"{prefix}-missed")
    grace = dt.timedelta(hours=load_settings(environ={}).reminders.grace_hours)
    assert grace == 6 * HOUR  # the default an operator gets
    caplog.set_level("INFO")

    await start_and_sweep(content, store_url, posts, grace)
    assert read_posts(posts) == []
    skipped = [r for r in caplog.records if "event=reminder_skipped" in r.getMessage()]
    assert len(skipped) == 1
    assert skipped[0].levelname == "WARNING"
    assert f"key={missed} " in skipped[0].getMessage()

    caplog.clear()
    await start_and_sweep(content, store_url, posts, grace)  # a restart: skipped stays skipped
    assert read_posts(posts) == []
    assert "event=reminder_skipped" not in caplog.text
    store = Store.open(store_url)
    try:
        assert reminder_row(store, missed)["state"] == "skipped"
    finally:
        store.close()


async def test_a_longer_grace_period_from_the_environment_posts_it(
    tmp_path: Path, store_url: str, prefix: str
) -> None:
    content, start = _content(tmp_path, prefix, "8h")
    posts = tmp_path / "posts.jsonl"
    settings = load_settings(environ={"INTRA_BOT_REMINDERS__GRACE_HOURS": "8"})
    grace = dt.timedelta(hours=settings.reminders.grace_hours)
    await start_and_sweep(content, store_url, posts, grace)
    assert posts_by_marker(posts) == {f"reminder:{_key(content, start, f'{prefix}-missed')}": 1}
