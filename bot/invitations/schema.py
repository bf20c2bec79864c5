"""The invitations table, and the small migration that brings an older store up to it.

`metadata.create_all` creates a missing table but never adds a column to an existing one:
a store made before the bot served several platforms has neither `platform` nor `number`.
`upgrade` adds them (idempotent, safe when two replicas start at once), so old rows read
as Mattermost's and get a number for the typed commands (`accepter 12`).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from bot.schema import UtcDateTime, add_missing_columns, create_tables, metadata

log = logging.getLogger(__name__)

PENDING, ACCEPTING, ACCEPTED, DECLINED = "pending", "accepting", "accepted", "declined"
# Rows written before an invitation recorded its platform were all Mattermost's.
LEGACY_PLATFORM = "mattermost"

invitations = Table(
    "invitations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("requester_id", String(255), nullable=False),
    Column("requester_username", String(255), nullable=False),
    Column("message", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("decided_at", UtcDateTime(), nullable=True),
    Column("decided_by", String(255), nullable=False, default=""),
    Column("decided_by_id", String(255), nullable=False, default=""),
    Column("reason", Text, nullable=False, default=""),
    Column("notices", Text, nullable=False, default="[]"),  # [[channel_id, post_id], ...]
    Column("recalled_at", UtcDateTime(), nullable=True),
    Column("platform", String(32), nullable=False, server_default=LEGACY_PLATFORM),
    # A short number referents type (« accepter 12 »); unique, given at creation.
    Column("number", Integer, nullable=True),
)
# At most one open request per person, whatever the race between two commands.
Index(
    "one_open_request_per_person",
    invitations.c.requester_id,
    unique=True,
    sqlite_where=invitations.c.state.in_([PENDING, ACCEPTING]),
    postgresql_where=invitations.c.state.in_([PENDING, ACCEPTING]),
)
Index("invitation_number", invitations.c.number, unique=True)

_ADDED = {
    "platform": f"VARCHAR(32) NOT NULL DEFAULT '{LEGACY_PLATFORM}'",
    "number": "INTEGER",
}


def ensure_schema(engine: Engine) -> None:
    """Create the table, or add what an older version of it lacks."""
    create_tables(engine, [invitations])
    add_missing_columns(engine, "invitations", _ADDED)
    columns = {column["name"]: column for column in inspect(engine).get_columns("invitations")}
    if engine.dialect.name == "postgresql":
        _widen_ids(engine, columns)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("CREATE UNIQUE INDEX IF NOT EXISTS invitation_number ON invitations (number)")
            )
    except (IntegrityError, OperationalError, ProgrammingError) as error:
        # PostgreSQL: two replicas creating it at the same instant; the other one did.
        if "duplicate" not in str(error).lower() and "exists" not in str(error).lower():
            raise
    _number_old_rows(engine)


def _widen_ids(engine: Engine, columns: dict[str, Any]) -> None:
    """Matrix ids are longer than Mattermost's: widen the old 64-character columns."""
    for name in ("requester_id", "requester_username", "decided_by", "decided_by_id"):
        length = getattr(columns[name]["type"], "length", None)
        if length is not None and length < 255:
            with engine.begin() as connection:
                connection.execute(
                    text(f"ALTER TABLE invitations ALTER COLUMN {name} TYPE VARCHAR(255)")
                )
            log.info("event=store_migrated table=invitations widened_column=%s", name)


def _number_old_rows(engine: Engine) -> None:
    """Give a number to the rows made before numbers existed, oldest first."""
    for _attempt in range(3):
        try:
            _number_once(engine)
            return
        except IntegrityError:
            continue  # another replica numbered some at the same time: look again


def _number_once(engine: Engine) -> None:
    with engine.begin() as connection:
        missing = connection.execute(
            select(invitations.c.id)
            .where(invitations.c.number.is_(None))
            .order_by(invitations.c.created_at)
        ).all()
        if not missing:
            return
        highest = connection.execute(select(func.max(invitations.c.number))).scalar() or 0
        for offset, (invitation_id,) in enumerate(missing, start=1):
            connection.execute(
                update(invitations)
                .where(invitations.c.id == invitation_id, invitations.c.number.is_(None))
                .values(number=highest + offset)
            )
