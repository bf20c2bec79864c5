"""Persistence with SQLAlchemy Core: SQLite by default, PostgreSQL for several replicas.

Every piece of state that must survive a restart or be shared between replicas
lives here, and every "only once" decision is a single atomic statement: an
INSERT that a primary key lets only one writer win.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

# How long a SQLite connection waits for another process's lock before « database is locked ».
SQLITE_BUSY_TIMEOUT_MS = 10_000


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

# One row per event already handled: a post answered, a welcome sent...
handled_events = Table(
    "handled_events",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("handled_at", UtcDateTime(), nullable=False),
)

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


@dataclass(frozen=True)
class Claim:
    key: str
    owner: str
    takeover: bool  # someone claimed it before and vanished: it may already be posted
    claimed_at: datetime


class StoreError(Exception):
    """The store cannot be reached or used; the message is for operators."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect and create the tables if needed."""
        url = normalise_url(url)
        try:
            engine = create_engine(url, future=True, pool_pre_ping=True)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            create_tables(engine)
        except SQLAlchemyError as error:
            raise StoreError(
                f"cannot open the store at {_safe(url)}: {error.__class__.__name__}: {error.args[0] if error.args else ''}"
            ) from None
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def claim_event(self, key: str, *, now: datetime | None = None) -> bool:
        """True for the first caller with this key, ever; False for everyone after."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(handled_events).values(key=key, handled_at=now or utcnow())
                )
            return True
        except IntegrityError:
            return False

    def forget_events_before(self, cutoff: datetime, prefix: str) -> int:
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(handled_events).where(
                    handled_events.c.handled_at < cutoff,
                    handled_events.c.key.startswith(prefix),
                )
            )
        return int(result.rowcount or 0)

    # -- reminders ---------------------------------------------------------------

    def claim_reminder(self, key: str, owner: str, now: datetime, lease: timedelta) -> Claim | None:
        """Take the right to post `key`: first come, or after the holder's lease ran out."""
        if self._insert_reminder(key, "claimed", owner, now, lease_until=now + lease, attempts=1):
            return Claim(key, owner, takeover=False, claimed_at=now)
        with self.engine.begin() as connection:
            previous = connection.execute(
                select(reminder_posts.c.claimed_at).where(reminder_posts.c.key == key)
            ).scalar_one_or_none()
            taken = connection.execute(
                reminder_posts.update()
                .where(
                    reminder_posts.c.key == key,
                    reminder_posts.c.state == "claimed",
                    reminder_posts.c.lease_until < now,
                )
                .values(
                    owner=owner,
                    lease_until=now + lease,
                    attempts=reminder_posts.c.attempts + 1,
                    updated_at=now,
                )
            )
        if taken.rowcount == 1:
            return Claim(key, owner, takeover=True, claimed_at=previous or now)
        return None

    def extend_reminder_lease(self, claim: Claim, until: datetime) -> bool:
        return self._update_claim(claim, lease_until=until, updated_at=until)

    def mark_reminder_posted(self, claim: Claim, post_id: str, now: datetime) -> bool:
        return self._update_claim(claim, state="posted", post_id=post_id, updated_at=now)

    def _update_claim(self, claim: Claim, **values: object) -> bool:
        """Change a claimed row, only while `claim` still holds it (no takeover since)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                reminder_posts.update()
                .where(
                    reminder_posts.c.key == claim.key,
                    reminder_posts.c.owner == claim.owner,
                    reminder_posts.c.state == "claimed",
                )
                .values(**values)
            )
        return result.rowcount == 1

    def mark_reminder_skipped(self, key: str, owner: str, now: datetime) -> bool:
        """Record a reminder missed for too long; True the first time only."""
        return self._insert_reminder(key, "skipped", owner, now, lease_until=now, attempts=0)

    def _insert_reminder(
        self,
        key: str,
        state: str,
        owner: str,
        now: datetime,
        *,
        lease_until: datetime,
        attempts: int,
    ) -> bool:
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(reminder_posts).values(
                        key=key,
                        state=state,
                        owner=owner,
                        claimed_at=now,
                        lease_until=lease_until,
                        attempts=attempts,
                        post_id="",
                        updated_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def reminder_states(self, keys: list[str]) -> dict[str, str]:
        if not keys:
            return {}
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(reminder_posts.c.key, reminder_posts.c.state).where(
                    reminder_posts.c.key.in_(keys)
                )
            ).all()
        return {str(row[0]): str(row[1]) for row in rows}

    def claim_value(self, name: str, owner: str, now: datetime, lease: timedelta) -> bool:
        """Hold `name` for `owner` until now + lease: the first caller, or one after it ran out.

        For one-time jobs that several replicas may start at once (e.g. Matrix cross-signing):
        one INSERT wins; a holder that died is replaced by a compare-and-set on its value.
        """
        value = f"{owner} {(now + lease).isoformat()}"
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(values).values(name=name, value=value, updated_at=now))
            return True
        except IntegrityError:
            pass
        current = self.get_value(name)
        if current is None:
            return False
        _, _, until = current.rpartition(" ")
        try:
            expired = datetime.fromisoformat(until) < now
        except ValueError:
            expired = True  # not a claim this method wrote: take it
        if not expired:
            return False
        with self.engine.begin() as connection:
            taken = connection.execute(
                values.update()
                .where(values.c.name == name, values.c.value == current)
                .values(value=value, updated_at=now)
            )
        return taken.rowcount == 1

    def get_value(self, name: str) -> str | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(values.c.value).where(values.c.name == name)).first()
        return None if row is None else str(row[0])

    def set_value(self, name: str, value: str, *, now: datetime | None = None) -> None:
        stamp = now or utcnow()
        with self.engine.begin() as connection:
            updated = connection.execute(
                values.update().where(values.c.name == name).values(value=value, updated_at=stamp)
            )
            if not updated.rowcount:
                connection.execute(insert(values).values(name=name, value=value, updated_at=stamp))


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


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and make SQLite paths' parent directories."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return url


def _sqlite_pragmas(connection: object, _record: object) -> None:
    # The busy timeout makes a second writer wait instead of failing, which is what
    # "exactly once" needs. It comes first: switching a fresh file to WAL takes a write
    # lock that another starting replica may hold, and must wait for it too.
    # WAL then lets several processes read while one writes.
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _safe(url: str) -> str:
    """The URL without its password, for logs and errors."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
