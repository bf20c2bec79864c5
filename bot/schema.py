"""The store's tables: the column type for aware datetimes, the shared metadata, the core tables.

Other packages add their own tables to `metadata` (invitations, the outbox, the question
log) and create them with `create_tables`; `Store.open` creates the ones defined here.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    text,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which has no time zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

# One row per event handled: a post answered, a reaction decided... A question's row is
# held by `owner` until `lease_until` while its reply is made, NULL once done (answer_claims.py).
handled_events = Table(
    "handled_events",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("handled_at", UtcDateTime(), nullable=False),
    Column("owner", String(100), nullable=False, server_default=""),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("place", String(200), nullable=False, server_default=""),
    Column("attempts", Integer, nullable=False, server_default="1"),
)


def handled_events_added(dialect: Dialect) -> dict[str, str]:
    """The columns a store made before answer leases lacks; its rows stay done (no lease)."""
    return {
        "owner": "VARCHAR(100) NOT NULL DEFAULT ''",
        "lease_until": UtcDateTime().impl.compile(dialect=dialect),
        "place": "VARCHAR(200) NOT NULL DEFAULT ''",
        "attempts": "INTEGER NOT NULL DEFAULT 1",
    }


# Small named values that must survive restarts (e.g. the last good copy of a feed).
values = Table(
    "kv_values",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)


# One row per reminder occurrence: claimed (with a lease), then posted or skipped.
reminder_posts = Table(
    "reminder_posts",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("owner", String(100), nullable=False),
    Column("claimed_at", UtcDateTime(), nullable=False),
    Column("lease_until", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("post_id", String(64), nullable=False, default=""),
    Column("updated_at", UtcDateTime(), nullable=False),
)


def create_tables(engine: Engine, tables: list[Table] | None = None) -> None:
    """CREATE TABLE IF NOT EXISTS, safe when several replicas start on a fresh store at once."""
    attempts = 20  # each lost race means one table fewer to create next time
    for attempt in range(attempts):
        try:
            metadata.create_all(engine, tables=tables)
            return
        except (OperationalError, ProgrammingError, IntegrityError) as error:
            message = str(error).lower()
            if attempt == attempts - 1 or ("exist" not in message and "locked" not in message):
                raise
            if "locked" in message:
                # SQLite refuses some lock upgrades at once, without its busy timeout, to avoid
                # a deadlock between two writers: let the other one finish, then look again.
                time.sleep(0.05 * (attempt + 1))
            # Otherwise another replica created a table between our check and our CREATE.


def add_missing_columns(engine: Engine, table: str, columns: dict[str, str]) -> None:
    """ALTER TABLE ADD COLUMN what an older store lacks (`create_all` never does): idempotent,
    and safe when two replicas start at once. `columns`: name -> SQL definition."""
    present = {column["name"] for column in inspect(engine).get_columns(table)}
    for name, definition in columns.items():
        if name in present:
            continue
        try:
            with engine.begin() as connection:
                connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {definition}"))
            log.info("event=store_migrated table=%s added_column=%s", table, name)
        except (OperationalError, ProgrammingError) as error:
            # Another replica added it between our look and our ALTER: nothing left to do.
            if "duplicate" not in str(error).lower() and "exists" not in str(error).lower():
                raise
