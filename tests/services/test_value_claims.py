"""`Store.claim_value`: one holder at a time for a one-time job, a dead holder replaced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store import Store

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")


def test_the_first_caller_holds_the_claim_and_a_second_is_refused(tmp_path: Path) -> None:
    s = store(tmp_path)
    assert s.claim_value("job", "a", NOW, LEASE)
    assert not s.claim_value("job", "b", NOW + timedelta(minutes=4), LEASE)
    assert not s.claim_value("job", "a", NOW + timedelta(minutes=4), LEASE)
    assert s.claim_value("other-job", "b", NOW, LEASE)


def test_a_claim_whose_lease_ran_out_is_taken_over_once(tmp_path: Path) -> None:
    s = store(tmp_path)
    assert s.claim_value("job", "a", NOW, LEASE)
    later = NOW + LEASE + timedelta(seconds=1)
    assert s.claim_value("job", "b", later, LEASE)
    assert not s.claim_value("job", "c", later, LEASE)  # b holds it now, until later + LEASE
    assert (s.get_value("job") or "").startswith("b ")


def test_two_stores_on_one_database_let_one_win(tmp_path: Path) -> None:
    first, second = store(tmp_path), store(tmp_path)
    results = [
        first.claim_value("job", "a", NOW, LEASE),
        second.claim_value("job", "b", NOW, LEASE),
    ]
    assert results == [True, False]


def test_a_value_that_is_not_a_claim_is_taken(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.set_value("job", "garbage")
    assert s.claim_value("job", "a", NOW, LEASE)
