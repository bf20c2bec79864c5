"""Exactly once at the store level, on a SQLite file: who may post a reminder, and when.

A reminder occurrence is claimed with a lease before it is posted. The first claimer
wins; nobody else gets it while the lease holds; once it has run out, one other owner
takes over (and is told so, to look for a post made before the crash); posted and
skipped are final.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.club.claims import Claim
from bot.schema import reminder_posts
from bot.store import Store

T0 = dt.datetime(2027, 1, 7, 8, 30, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=2)
KEY = "j-7@2027-01-14"
TICK = dt.timedelta(microseconds=1)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{store_path}")
    yield opened
    opened.close()


def row(store: Store, key: str = KEY) -> dict[str, object]:
    with store.engine.connect() as connection:
        found = connection.execute(select(reminder_posts).where(reminder_posts.c.key == key)).one()
    return dict(found._mapping)


def test_first_claim_wins_and_nobody_else_gets_it_while_the_lease_holds(store: Store) -> None:
    first = store.claim_reminder(KEY, "a", T0, LEASE)
    assert first == Claim(KEY, "a", takeover=False, claimed_at=T0)
    assert store.claim_reminder(KEY, "b", T0, LEASE) is None
    # Not even the holder itself gets a second go (a date job and a sweep in one process).
    assert store.claim_reminder(KEY, "a", T0 + dt.timedelta(seconds=1), LEASE) is None
    # Up to and including the last instant of the lease.
    assert store.claim_reminder(KEY, "b", T0 + LEASE, LEASE) is None
    assert store.reminder_states([KEY]) == {KEY: "claimed"}
    assert row(store)["owner"] == "a"


def test_after_the_lease_another_owner_takes_over_once(store: Store) -> None:
    first = store.claim_reminder(KEY, "a", T0, LEASE)
    assert first is not None
    later = T0 + LEASE + TICK
    taken = store.claim_reminder(KEY, "b", later, LEASE)
    # claimed_at is the first claim's: the takeover looks for a marked post since then.
    assert taken == Claim(KEY, "b", takeover=True, claimed_at=T0)
    assert store.claim_reminder(KEY, "c", later, LEASE) is None
    assert row(store)["owner"] == "b"
    assert row(store)["attempts"] == 2
    # The vanished holder comes back: it can no longer record the post as its own.
    assert not store.mark_reminder_posted(first, "post-a", later)
    assert store.mark_reminder_posted(taken, "post-b", later)
    assert row(store)["post_id"] == "post-b"


def test_a_taker_that_vanishes_too_is_taken_over_again(store: Store) -> None:
    store.claim_reminder(KEY, "a", T0, LEASE)
    store.claim_reminder(KEY, "b", T0 + LEASE + TICK, LEASE)
    third = store.claim_reminder(KEY, "c", T0 + 2 * LEASE + 2 * TICK, LEASE)
    assert third == Claim(KEY, "c", takeover=True, claimed_at=T0)
    assert row(store)["attempts"] == 3


def test_an_extended_lease_keeps_the_holder(store: Store) -> None:
    claim = store.claim_reminder(KEY, "a", T0, LEASE)
    assert claim is not None
    assert store.extend_reminder_lease(claim, T0 + 3 * LEASE)
    assert store.claim_reminder(KEY, "b", T0 + 2 * LEASE, LEASE) is None
    taken = store.claim_reminder(KEY, "b", T0 + 3 * LEASE + TICK, LEASE)
    assert taken is not None and taken.takeover
    # Once taken over, the old holder cannot extend it back.
    assert not store.extend_reminder_lease(claim, T0 + 10 * LEASE)
    assert row(store)["owner"] == "b"


def test_posted_is_final(store: Store) -> None:
    claim = store.claim_reminder(KEY, "a", T0, LEASE)
    assert claim is not None
    assert store.mark_reminder_posted(claim, "post-1", T0 + dt.timedelta(seconds=1))
    assert not store.mark_reminder_posted(claim, "post-2", T0 + dt.timedelta(seconds=2))
    for later in (T0 + LEASE + TICK, T0 + dt.timedelta(days=400)):
        assert store.claim_reminder(KEY, "b", later, LEASE) is None
        assert store.claim_reminder(KEY, "a", later, LEASE) is None
    assert not store.mark_reminder_skipped(KEY, "b", T0 + dt.timedelta(days=1))
    assert store.reminder_states([KEY]) == {KEY: "posted"}
    assert row(store)["post_id"] == "post-1"


def test_skipped_is_recorded_once_and_is_final(store: Store) -> None:
    assert store.mark_reminder_skipped(KEY, "a", T0)
    assert not store.mark_reminder_skipped(KEY, "a", T0 + dt.timedelta(minutes=1))
    assert not store.mark_reminder_skipped(KEY, "b", T0 + dt.timedelta(minutes=1))
    for later in (T0, T0 + LEASE + TICK, T0 + dt.timedelta(days=2)):
        assert store.claim_reminder(KEY, "b", later, LEASE) is None
    assert store.reminder_states([KEY]) == {KEY: "skipped"}
    assert row(store)["owner"] == "a"


def test_a_claimed_reminder_cannot_then_be_marked_skipped(store: Store) -> None:
    store.claim_reminder(KEY, "a", T0, LEASE)
    assert not store.mark_reminder_skipped(KEY, "b", T0 + dt.timedelta(hours=7))
    assert store.reminder_states([KEY]) == {KEY: "claimed"}


def test_states_survive_a_restart_and_keys_are_independent(store_path: Path) -> None:
    first = Store.open(f"sqlite:///{store_path}")
    claim = first.claim_reminder(KEY, "a", T0, LEASE)
    assert claim is not None
    first.mark_reminder_posted(claim, "post-1", T0)
    first.mark_reminder_skipped("h-1@2027-01-14", "a", T0)
    first.close()
    again = Store.open(f"sqlite:///{store_path}")
    try:
        assert again.reminder_states([KEY, "h-1@2027-01-14", "j-1@2027-01-14"]) == {
            KEY: "posted",
            "h-1@2027-01-14": "skipped",
        }
        assert again.claim_reminder(KEY, "b", T0 + dt.timedelta(days=1), LEASE) is None
        other = again.claim_reminder("j-1@2027-01-14", "b", T0, LEASE)
        assert other is not None and not other.takeover
        assert again.reminder_states([]) == {}
    finally:
        again.close()


@pytest.mark.parametrize("expired", [False, True], ids=["fresh", "takeover"])
def test_concurrent_claimers_on_one_file_exactly_one_wins(store_path: Path, expired: bool) -> None:
    """Eight threads, each with its own store (own connections), claim at the same instant."""
    url = f"sqlite:///{store_path}"
    setup = Store.open(url)
    if expired:
        setup.claim_reminder(KEY, "ghost", T0 - 2 * LEASE, LEASE)
    setup.close()
    stores = [Store.open(url) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    results: dict[int, Claim | None] = {}

    def claim(index: int) -> None:
        barrier.wait()
        results[index] = stores[index].claim_reminder(KEY, f"owner-{index}", T0, LEASE)

    threads = [threading.Thread(target=claim, args=(index,)) for index in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for opened in stores:
        opened.close()
    assert len(results) == len(stores)
    winners = [claim for claim in results.values() if claim is not None]
    assert len(winners) == 1
    assert winners[0].takeover is expired
    check = Store.open(url)
    try:
        assert row(check)["owner"] == winners[0].owner
    finally:
        check.close()
