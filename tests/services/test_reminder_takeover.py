"""Taking over a reminder whose first poster vanished: look for its post before posting.

The first replica claimed the reminder, maybe posted it, then crashed before recording
it. Once its lease runs out another replica takes over; it must search the channel for
the marked post first, or the club would get the same reminder twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.club import reminders
from bot.club.agenda import Occurrence
from bot.club.service import ClubService
from bot.content.loader import ContentSource
from bot.store import Store
from tests.fakes import FakeChatPlatform

PARIS = ZoneInfo("Europe/Paris")
LEASE = dt.timedelta(minutes=2)
START = dt.datetime(2026, 12, 3, 16, tzinfo=PARIS)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path}/s.db")
    yield opened
    opened.close()


@pytest.fixture
def item() -> reminders.PlannedReminder:
    occurrence = Occurrence(START, START + dt.timedelta(hours=1), "au forum")
    return reminders.plan(ContentSource().current.club, [occurrence])[0]


def crashed_claim(store: Store, item: reminders.PlannedReminder) -> dt.datetime:
    """The first replica claims at the due time, then vanishes; returns when its lease ends."""
    assert store.claim_reminder(item.key, "crashed", item.at, LEASE) is not None
    return item.at + LEASE


def service(store: Store, channel: FakeChatPlatform, now: dt.datetime) -> ClubService:
    return ClubService(
        ContentSource(), store, owner="second", channel=channel, clock=lambda: now, lease=LEASE
    )


async def test_a_takeover_finds_the_earlier_post_and_does_not_post_again(
    store: Store, item: reminders.PlannedReminder
) -> None:
    marker = f"reminder:{item.key}"
    channel = FakeChatPlatform({marker: "post-before-crash"})
    after_lease = crashed_claim(store, item) + dt.timedelta(seconds=1)
    posted = await service(store, channel, after_lease).fire(item)
    assert posted is False
    assert channel.posts == []
    # It looked in the reminder's channel, from a minute before the first claim.
    assert channel.searches == [(item.channel, marker, item.at - dt.timedelta(minutes=1))]
    assert store.reminder_states([item.key]) == {item.key: "posted"}


async def test_a_takeover_without_an_earlier_post_posts_once(
    store: Store, item: reminders.PlannedReminder
) -> None:
    channel = FakeChatPlatform()
    after_lease = crashed_claim(store, item) + dt.timedelta(seconds=1)
    assert await service(store, channel, after_lease).fire(item) is True
    assert [(name, marker) for name, _, marker in channel.posts] == [
        (item.channel, f"reminder:{item.key}")
    ]
    assert len(channel.searches) == 1
    assert store.reminder_states([item.key]) == {item.key: "posted"}
    # A third replica after that finds it posted: nothing more.
    assert await service(store, channel, after_lease + LEASE * 2).fire(item) is False
    assert len(channel.posts) == 1


async def test_a_takeover_that_cannot_search_does_not_post(
    store: Store, item: reminders.PlannedReminder
) -> None:
    channel = FakeChatPlatform()
    channel.search_error = ConnectionError("Mattermost ne répond pas")
    after_lease = crashed_claim(store, item) + dt.timedelta(seconds=1)
    assert await service(store, channel, after_lease).fire(item) is False
    assert channel.posts == []
    # Still claimed: a later sweep retries once this lease runs out too.
    assert store.reminder_states([item.key]) == {item.key: "claimed"}


async def test_no_takeover_while_the_first_lease_holds(
    store: Store, item: reminders.PlannedReminder
) -> None:
    channel = FakeChatPlatform()
    lease_end = crashed_claim(store, item)
    assert await service(store, channel, lease_end).fire(item) is False
    assert (channel.posts, channel.searches) == ([], [])


async def test_a_platform_not_connected_yet_leaves_the_reminder_unclaimed(
    store: Store, item: reminders.PlannedReminder
) -> None:
    channel = FakeChatPlatform()
    channel.ready = False
    assert await service(store, channel, item.at).fire(item) is False
    assert (channel.posts, store.reminder_states([item.key])) == ([], {})
    channel.ready = True  # connected: the sweep it triggers posts it at once
    assert await service(store, channel, item.at).fire(item) is True
    assert len(channel.posts) == 1


async def test_a_first_claim_posts_without_searching(
    store: Store, item: reminders.PlannedReminder
) -> None:
    channel = FakeChatPlatform()
    assert await service(store, channel, item.at).fire(item) is True
    assert channel.searches == []
    assert len(channel.posts) == 1
    assert store.reminder_states([item.key]) == {item.key: "posted"}
