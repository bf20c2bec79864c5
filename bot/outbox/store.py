"""The outbox: side effects that follow a state change, kept in the store until done.

A notice to the referents, a welcome DM or a post update is written here in the same
transaction as the state change it follows (or on its own, keyed, when there is no other
state). A worker then claims each row with a lease, performs it and marks it done; a row
whose holder died is claimed again once its lease has run out, at start-up too. The key
is the message's idempotency key: a row exists once, is claimed by one worker at a time
and is never performed again once done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.store import Store, UtcDateTime, create_tables, metadata

log = logging.getLogger(__name__)

PENDING, DONE, FAILED = "pending", "done", "failed"

outbox = Table(
    "outbox",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("owner", String(100), nullable=False, default=""),
    # Free to claim after this: the end of a holder's lease, or of a retry's wait.
    Column("due_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
Index("outbox_due", outbox.c.state, outbox.c.due_at)


@dataclass(frozen=True)
class Effect:
    """One side effect to perform: what (`kind`), with what (`payload`), known by `key`."""

    key: str
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Job:
    """A claimed row: perform it, then `done` or `retry` it with the same owner."""

    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int  # 1 on the first claim; more means an earlier holder may have done it


class OutboxStore:
    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        create_tables(self.engine, [outbox])

    @staticmethod
    def add_in(connection: Connection, effects: Iterable[Effect], now: datetime) -> list[str]:
        """Queue `effects` inside the caller's transaction; keys already queued are kept as
        they are. Returns the keys newly queued."""
        added = []
        for effect in effects:
            exists = connection.execute(
                select(outbox.c.key).where(outbox.c.key == effect.key)
            ).first()
            if exists is not None:
                continue
            connection.execute(
                insert(outbox).values(
                    key=effect.key,
                    kind=effect.kind,
                    payload=json.dumps(effect.payload, ensure_ascii=False),
                    state=PENDING,
                    owner="",
                    due_at=now,
                    attempts=0,
                    last_error="",
                    created_at=now,
                    updated_at=now,
                )
            )
            added.append(effect.key)
        return added

    def add(self, effect: Effect, now: datetime) -> bool:
        """Queue one effect on its own; False if its key was queued before (by anyone)."""
        try:
            with self.engine.begin() as connection:
                return bool(self.add_in(connection, [effect], now))
        except IntegrityError:  # another replica queued the same key at the same instant
            return False

    def add_all(self, effects: list[Effect], now: datetime) -> list[str]:
        """Queue several effects on their own; the keys newly queued."""
        try:
            with self.engine.begin() as connection:
                return self.add_in(connection, effects, now)
        except IntegrityError:  # a replica queued some of them at the same instant
            return []

    def claim(self, key: str, owner: str, now: datetime, lease: timedelta) -> Job | None:
        """Take one due row for `lease`; None if it is done, held by a live worker, or waiting."""
        with self.engine.begin() as connection:
            taken = connection.execute(
                update(outbox)
                .where(outbox.c.key == key, outbox.c.state == PENDING, outbox.c.due_at <= now)
                .values(
                    owner=owner,
                    due_at=now + lease,
                    attempts=outbox.c.attempts + 1,
                    updated_at=now,
                )
            )
            if taken.rowcount != 1:
                return None
            row = connection.execute(
                select(outbox.c.kind, outbox.c.payload, outbox.c.attempts).where(
                    outbox.c.key == key
                )
            ).one()
        return Job(key, str(row[0]), json.loads(str(row[1])), int(row[2]))

    def due(self, now: datetime, limit: int = 50) -> list[str]:
        """Keys that may be claimed now, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(outbox.c.key)
                .where(outbox.c.state == PENDING, outbox.c.due_at <= now)
                .order_by(outbox.c.created_at)
                .limit(limit)
            ).all()
        return [str(row[0]) for row in rows]

    def done(self, job: Job, owner: str, now: datetime) -> bool:
        return self._finish(job, owner, state=DONE, updated_at=now, last_error="")

    def retry(self, job: Job, owner: str, at: datetime, error: str) -> bool:
        """Free the row again at `at` (a wait before the next attempt)."""
        return self._finish(job, owner, owner="", due_at=at, updated_at=at, last_error=error[:500])

    def release(self, job: Job, owner: str, now: datetime, reason: str) -> bool:
        """Free the row, due now, as if this claim had not happened: nothing was attempted
        (its platform is not connected yet), so it is neither a try nor a possible copy."""
        return self._finish(
            job,
            owner,
            owner="",
            due_at=now,
            attempts=outbox.c.attempts - 1,
            updated_at=now,
            last_error=reason[:500],
        )

    def fail(self, job: Job, owner: str, now: datetime, error: str) -> bool:
        """Give up: the effect cannot be performed (logged by the caller)."""
        return self._finish(job, owner, state=FAILED, updated_at=now, last_error=error[:500])

    def _finish(self, job: Job, holder: str, **values: object) -> bool:
        """Change a claimed row, only while `holder` still holds it."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(outbox)
                .where(outbox.c.key == job.key, outbox.c.owner == holder, outbox.c.state == PENDING)
                .values(**values)
            )
        return result.rowcount == 1

    def states(self, prefix: str = "") -> dict[str, str]:
        """key -> state, for keys starting with `prefix` (tests, health)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(outbox.c.key, outbox.c.state).where(outbox.c.key.startswith(prefix))
            ).all()
        return {str(row[0]): str(row[1]) for row in rows}

    def pending_count(self) -> int:
        with self.engine.connect() as connection:
            count = connection.execute(
                select(func.count()).select_from(outbox).where(outbox.c.state == PENDING)
            ).scalar_one()
        return int(count)

    def purge_finished_before(self, cutoff: datetime) -> int:
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(outbox).where(outbox.c.state != PENDING, outbox.c.updated_at < cutoff)
            )
        return int(result.rowcount or 0)
