"""A store made before invitations knew their platform is brought up to date at start-up:
the missing columns are added (SQLite and PostgreSQL), old rows read as Mattermost's and
get numbers, and doing it again (another replica, the next start) changes nothing."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.invitations.records import DECLINED, PENDING, InvitationRecords
from bot.store import Store, normalise_url

OLD_SCHEMA = """
CREATE TABLE invitations (
    id VARCHAR(32) PRIMARY KEY,
    requester_id VARCHAR(64) NOT NULL,
    requester_username VARCHAR(64) NOT NULL,
    message TEXT NOT NULL,
    state VARCHAR(16) NOT NULL,
    created_at {stamp} NOT NULL,
    decided_at {stamp},
    decided_by VARCHAR(64) NOT NULL,
    decided_by_id VARCHAR(64) NOT NULL,
    reason TEXT NOT NULL,
    notices TEXT NOT NULL,
    recalled_at {stamp}
)
"""
OLD_ROWS = [
    ("old-declined", "u-bruno", "bruno", DECLINED, "2026-01-05 10:00:00"),
    ("old-pending", "u-camille", "camille", PENDING, "2026-02-01 10:00:00"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def old_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store holding the invitations table as it was, in its own file or schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        stamp, cleanup = "TIMESTAMP", None
    else:
        dsn: str = request.getfixturevalue("pg_dsn")
        schema = f"old_invitations_{secrets.token_hex(4)}"
        admin = create_engine(normalise_url(dsn))
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        separator = "&" if "?" in dsn else "?"
        url = f"{dsn}{separator}options=-csearch_path%3D{schema}"
        stamp, cleanup = "TIMESTAMP WITH TIME ZONE", (admin, schema)
    engine = create_engine(normalise_url(url))
    with engine.begin() as connection:
        connection.execute(text(OLD_SCHEMA.format(stamp=stamp)))
        for row_id, user_id, username, state, created in OLD_ROWS:
            connection.execute(
                text(
                    "INSERT INTO invitations VALUES (:id, :user_id, :username, '', :state, "
                    ":created, NULL, '', '', '', '[]', NULL)"
                ),
                {
                    "id": row_id,
                    "user_id": user_id,
                    "username": username,
                    "state": state,
                    "created": created,
                },
            )
    engine.dispose()
    yield url
    if cleanup is not None:
        admin, schema = cleanup
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_an_old_store_gains_platform_and_numbers_once(old_store_url: str) -> None:
    store = Store.open(old_store_url)
    try:
        records = InvitationRecords(store)
        columns = {c["name"] for c in inspect(store.engine).get_columns("invitations")}
        assert {"platform", "number"} <= columns
        old = records.get("old-pending")
        assert old is not None and old.platform == "mattermost" and old.number == 2
        declined = records.get("old-declined")
        assert declined is not None and declined.number == 1
        # Again, as the next start or a second replica would: nothing moves.
        InvitationRecords(store)
        assert records.get("old-pending") == old
        # New requests follow on, with their platform; a Matrix id longer than the old
        # 64 characters fits.
        long_id = "@" + "x" * 80 + ":agent.dinum.tchap.gouv.fr"
        now = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
        new = records.create(long_id, long_id, "", now, platform="matrix")
        assert new is not None and new.number == 3 and new.platform == "matrix"
        assert records.by_number(3) == new
    finally:
        store.close()


def test_two_replicas_migrating_at_once_both_start(old_store_url: str) -> None:
    stores = [Store.open(old_store_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def start(store: Store) -> None:
        barrier.wait()
        try:
            InvitationRecords(store)
        except BaseException as error:  # reported below, with the other replica's outcome
            errors.append(error)

    threads = [threading.Thread(target=start, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        numbers = sorted(
            InvitationRecords(stores[0]).get(i).number for i in ("old-declined", "old-pending")
        )  # type: ignore[union-attr]
        assert numbers == [1, 2]
    finally:
        for store in stores:
            store.close()
