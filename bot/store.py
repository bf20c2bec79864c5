"""Persistence with SQLAlchemy Core: SQLite by default, PostgreSQL for several replicas.

Every piece of state that must survive a restart or be shared between replicas
lives here, and every "only once" decision is a single atomic statement: an
INSERT that a primary key lets only one writer win.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, event, insert, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.answer_claims import AnswerClaims
from bot.clock import utc_now
from bot.club.claims import ReminderClaims
from bot.database_url import masked
from bot.files import private_file
from bot.schema import (
    add_missing_columns,
    create_tables,
    handled_events,
    handled_events_added,
    values,
)

log = logging.getLogger(__name__)

# How long a SQLite connection waits for another process's lock before « database is locked ».
SQLITE_BUSY_TIMEOUT_MS = 10_000


class StoreError(Exception):
    """The store cannot be reached or used; the message is for operators."""


class Store(ReminderClaims, AnswerClaims):
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
            add_missing_columns(engine, "handled_events", handled_events_added(engine.dialect))
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
        """True for the first caller with this key, ever; False for everyone after.

        Done at once (no lease): for what is acted on in one step. A question, whose reply
        may be cut off by a crash, is claimed with `claim_answer` instead."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(handled_events).values(key=key, handled_at=now or utc_now())
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
        stamp = now or utc_now()
        with self.engine.begin() as connection:
            updated = connection.execute(
                values.update().where(values.c.name == name).values(value=value, updated_at=stamp)
            )
            if not updated.rowcount:
                connection.execute(insert(values).values(name=name, value=value, updated_at=stamp))


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs; create a SQLite file private (0600) before SQLite
    does, so that it and its -wal/-shm files are not readable by others whatever the umask."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        private_file(Path(url.removeprefix("sqlite:///").split("?", 1)[0]).expanduser())
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


_safe = masked  # the name the store's errors and their tests use
