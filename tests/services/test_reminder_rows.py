"""Reminder claims row by row: each change touches its own reminder, and says when it happened."""

from __future__ import annotations

from bot.store import Store
from tests.services.test_reminder_claims import LEASE, T0, TICK, row, store, store_path  # noqa: F401

OTHER = "h-1@2027-01-14"
KEY = "j-7@2027-01-14"


def test_a_new_claim_starts_with_one_attempt_and_no_post(store: Store) -> None:  # noqa: F811
    assert store.claim_reminder(KEY, "a", T0, LEASE) is not None
    found = row(store, KEY)
    assert (found["state"], found["attempts"], found["post_id"]) == ("claimed", 1, "")
    assert (found["claimed_at"], found["lease_until"], found["updated_at"]) == (T0, T0 + LEASE, T0)


def test_a_takeover_touches_only_its_own_reminder(store: Store) -> None:  # noqa: F811
    assert store.claim_reminder(KEY, "a", T0, LEASE) is not None
    assert store.claim_reminder(OTHER, "a", T0, LEASE) is not None
    later = T0 + LEASE + TICK
    taken = store.claim_reminder(KEY, "b", later, LEASE)
    assert taken is not None and taken.takeover and taken.claimed_at == T0
    assert (row(store, KEY)["owner"], row(store, KEY)["updated_at"]) == ("b", later)
    assert (row(store, KEY)["attempts"], row(store, OTHER)["attempts"]) == (2, 1)
    assert (row(store, OTHER)["owner"], row(store, OTHER)["updated_at"]) == ("a", T0)


def test_posting_or_extending_one_claim_leaves_the_others(store: Store) -> None:  # noqa: F811
    claim = store.claim_reminder(KEY, "a", T0, LEASE)
    assert claim is not None and store.claim_reminder(OTHER, "a", T0, LEASE) is not None
    until = T0 + LEASE * 3
    assert store.extend_reminder_lease(claim, until)
    assert (row(store, KEY)["lease_until"], row(store, KEY)["updated_at"]) == (until, until)
    assert row(store, OTHER)["lease_until"] == T0 + LEASE
    posted_at = T0 + LEASE
    assert store.mark_reminder_posted(claim, "post-1", posted_at)
    assert (row(store, KEY)["state"], row(store, KEY)["post_id"]) == ("posted", "post-1")
    assert row(store, KEY)["updated_at"] == posted_at
    assert (row(store, OTHER)["state"], row(store, OTHER)["post_id"]) == ("claimed", "")


def test_a_skipped_reminder_was_never_attempted(store: Store) -> None:  # noqa: F811
    assert store.mark_reminder_skipped(KEY, "a", T0)
    found = row(store, KEY)
    assert (found["state"], found["attempts"], found["post_id"]) == ("skipped", 0, "")
