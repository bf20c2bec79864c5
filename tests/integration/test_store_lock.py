"""Opening a store whose file another process holds locked waits for it, then succeeds."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot import schema
from bot.store import Store, StoreError

# Python's sqlite3 waits 5 s for a lock by default; the store must wait longer than that
# even for its very first statement (the switch to WAL), so the lock is held past it.
PAST_DEFAULT_TIMEOUT_S = 6.5


def test_open_waits_for_a_write_lock_on_a_fresh_file(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # what a replica creating the tables holds
    outcome: list[object] = []

    def open_store() -> None:
        try:
            outcome.append(Store.open(f"sqlite:///{path}"))
        except Exception as error:
            outcome.append(error)

    opener = threading.Thread(target=open_store)
    opener.start()
    try:
        opener.join(PAST_DEFAULT_TIMEOUT_S)
        # Still waiting: it cannot have succeeded while the lock is held, so an early
        # end can only be a failure (« database is locked »).
        assert opener.is_alive(), f"gave up while the lock was held: {outcome}"
    finally:
        holder.execute("COMMIT")
        holder.close()
    opener.join(60)
    assert not opener.is_alive()
    [opened] = outcome
    assert isinstance(opened, Store), opened
    assert opened.claim_event("first") and not opened.claim_event("first")
    opened.close()


def test_table_creation_retries_when_sqlite_refuses_a_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite answers « locked » at once, without waiting, when two writers would deadlock."""
    real_create_all = schema.metadata.create_all
    calls: list[int] = []

    def create_all_locked_twice(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError(
                "CREATE TABLE", {}, sqlite3.OperationalError("database is locked")
            )
        real_create_all(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(schema.metadata, "create_all", create_all_locked_twice)
    opened = Store.open(f"sqlite:///{tmp_path}/s.db")
    assert len(calls) == 3
    assert opened.claim_event("k")
    opened.close()


def test_table_creation_does_not_retry_other_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def create_all_broken(*args: object, **kwargs: object) -> None:
        calls.append(1)
        raise OperationalError("CREATE TABLE", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(schema.metadata, "create_all", create_all_broken)
    with pytest.raises(StoreError, match="disk I/O error"):
        Store.open(f"sqlite:///{tmp_path}/s.db")
    assert len(calls) == 1
