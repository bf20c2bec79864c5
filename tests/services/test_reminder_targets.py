"""Club reminders on two platforms: each posted once per platform, each with its own ledger row.

Mattermost keeps the reminder's key as it is (rows written before Matrix existed still say
"posted there"); the Matrix room gets its own `matrix:` row, claimed, leased and taken over
by the same store logic. A platform not connected yet is retried, never skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat import PlatformUnavailable
from bot.club import reminders
from bot.club.service import ClubService
from bot.club.targets import ReminderTarget
from bot.content.loader import ContentSource
from bot.store import Store
from tests.fakes import FakeChatPlatform, FakeClock

ROOM = "#domaine-intras:agent.dinum.tchap.gouv.fr"
LEASE = dt.timedelta(minutes=2)


class LateMatrix(FakeChatPlatform):
    """A Matrix platform that is not connected until `connected` is set."""

    def __init__(self) -> None:
        super().__init__(name="matrix")
        self.connected = False
        self.attempts = 0

    async def post_marked(self, channel_name: str, text: str, marker: str) -> str:
        self.attempts += 1
        if not self.connected:
            raise PlatformUnavailable("Matrix has not connected yet")
        return await super().post_marked(channel_name, text, marker)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path}/s.db")
    yield opened
    opened.close()


def club(
    store: Store, mattermost: FakeChatPlatform, matrix: FakeChatPlatform, clock: FakeClock
) -> ClubService:
    return ClubService(
        ContentSource(),
        store,
        owner="replica-1",
        channel=mattermost,
        targets=[ReminderTarget(matrix, room=ROOM, prefix="matrix:")],
        clock=clock,
        lease=LEASE,
        retry_delay=0,
    )


def due_now(service: ClubService) -> reminders.PlannedReminder:
    """The next planned reminder, with the clock moved to a minute after it."""
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    item = next(i for i in service.planned(start) if i.at > start)
    assert isinstance(service.clock, FakeClock)
    service.clock.now = item.at + dt.timedelta(minutes=1)
    return item


async def test_a_due_reminder_is_posted_once_on_each_platform(store: Store) -> None:
    mattermost, matrix = FakeChatPlatform(), FakeChatPlatform(name="matrix")
    service = club(store, mattermost, matrix, FakeClock())
    item = due_now(service)
    await service.sweep()
    await service.sweep()  # the next sweep finds both posted
    assert [(c, m) for c, _, m in mattermost.posts] == [(item.channel, f"reminder:{item.key}")]
    assert [(c, m) for c, _, m in matrix.posts] == [(ROOM, f"reminder:matrix:{item.key}")]
    assert mattermost.posts[0][1] == matrix.posts[0][1]  # the same French text on both
    assert store.reminder_states([item.key, f"matrix:{item.key}"]) == {
        item.key: "posted",
        f"matrix:{item.key}": "posted",
    }


async def test_a_reminder_posted_before_the_upgrade_goes_to_matrix_only(store: Store) -> None:
    mattermost, matrix = FakeChatPlatform(), FakeChatPlatform(name="matrix")
    service = club(store, mattermost, matrix, FakeClock())
    item = due_now(service)
    # A row from the Mattermost-only version: the reminder's key, no platform in it.
    claim = store.claim_reminder(item.key, "old-version", item.at, LEASE)
    assert claim is not None and store.mark_reminder_posted(claim, "mm-post", item.at)
    await service.sweep()
    assert mattermost.posts == [] and len(matrix.posts) == 1


async def test_matrix_not_connected_yet_does_not_hold_mattermost_and_is_posted_later(
    store: Store,
) -> None:
    mattermost, matrix = FakeChatPlatform(), LateMatrix()
    clock = FakeClock()
    service = club(store, mattermost, matrix, clock)
    item = due_now(service)
    assert await service.fire(item) is True  # Mattermost's went out
    assert len(mattermost.posts) == 1 and matrix.posts == [] and matrix.attempts > 1
    assert store.reminder_states([f"matrix:{item.key}"]) == {f"matrix:{item.key}": "claimed"}
    # Matrix connects; once the lease of the failed attempt is over, a sweep takes over:
    # it looks in the room first (nothing there), then posts, once.
    matrix.connected = True
    clock.now += LEASE * 2
    await service.sweep()
    await service.sweep()
    assert [(c, m) for c, _, m in matrix.posts] == [(ROOM, f"reminder:matrix:{item.key}")]
    assert [(c, m) for c, m, _ in matrix.searches] == [(ROOM, f"reminder:matrix:{item.key}")]
    assert len(mattermost.posts) == 1
    assert store.reminder_states([f"matrix:{item.key}"]) == {f"matrix:{item.key}": "posted"}


async def test_a_takeover_finds_the_matrix_post_of_a_dead_replica(store: Store) -> None:
    item_clock = FakeClock()
    marker_of = "reminder:matrix:{}"
    mattermost, matrix = FakeChatPlatform(), FakeChatPlatform(name="matrix")
    service = club(store, mattermost, matrix, item_clock)
    item = due_now(service)
    # Replica 0 claimed both, posted on Matrix, and died before recording anything.
    for key in (item.key, f"matrix:{item.key}"):
        assert store.claim_reminder(key, "dead", item.at, LEASE) is not None
    matrix.marked[marker_of.format(item.key)] = "$posted-before-the-crash"
    item_clock.now = item.at + LEASE + dt.timedelta(seconds=1)
    await service.sweep()
    assert matrix.posts == []  # found, not posted again
    assert len(mattermost.posts) == 1  # nothing there: posted
    assert store.reminder_states([item.key, f"matrix:{item.key}"]) == {
        item.key: "posted",
        f"matrix:{item.key}": "posted",
    }


async def test_a_reminder_missed_for_too_long_is_skipped_on_both(store: Store) -> None:
    mattermost, matrix = FakeChatPlatform(), FakeChatPlatform(name="matrix")
    clock = FakeClock()
    service = club(store, mattermost, matrix, clock)
    item = due_now(service)
    clock.now = item.at + service.grace + dt.timedelta(minutes=1)
    if item.occurrence.start <= clock.now - service.grace:
        pytest.fail("the chosen reminder is too close to its club for this test")
    await service.sweep()
    assert mattermost.posts == [] and matrix.posts == []
    assert store.reminder_states([item.key, f"matrix:{item.key}"]) == {
        item.key: "skipped",
        f"matrix:{item.key}": "skipped",
    }


class ConnectingMatrix(FakeChatPlatform):
    """Not connected for its first search (a replica just started), connected after."""

    def __init__(self) -> None:
        super().__init__(name="matrix")

    async def find_marked(self, channel_name: str, marker: str, since: dt.datetime) -> str | None:
        found = await super().find_marked(channel_name, marker, since)
        if len(self.searches) == 1:
            raise PlatformUnavailable("Matrix has not connected yet")
        return found


async def test_a_takeover_by_a_replica_still_connecting_waits_for_it_then_finds_the_post(
    store: Store,
) -> None:
    clock = FakeClock()
    matrix = ConnectingMatrix()
    service = club(store, FakeChatPlatform(), matrix, clock)
    item = due_now(service)
    key = f"matrix:{item.key}"
    assert store.claim_reminder(key, "killed-mid-post", item.at, LEASE) is not None
    matrix.marked[f"reminder:{key}"] = "$posted-before-the-kill"
    clock.now = item.at + LEASE + dt.timedelta(seconds=1)
    assert await service.fire(item, service.targets) is False
    assert len(matrix.searches) == 2  # asked again once connected, not left for a later sweep
    assert matrix.posts == []
    assert store.reminder_states([key]) == {key: "posted"}
