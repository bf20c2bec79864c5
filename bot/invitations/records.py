"""Invitation requests in the store. Every transition is one conditional UPDATE, so the
first decision wins even when two referents click at the same instant on two replicas."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError, OperationalError

# The states and the table are re-exported: callers knew them from here first.
from bot.invitations.schema import ACCEPTED as ACCEPTED
from bot.invitations.schema import ACCEPTING as ACCEPTING
from bot.invitations.schema import DECLINED as DECLINED
from bot.invitations.schema import LEGACY_PLATFORM, ensure_schema
from bot.invitations.schema import PENDING as PENDING
from bot.invitations.schema import invitations as invitations
from bot.outbox.store import Effect, OutboxStore
from bot.store import Store


@dataclass(frozen=True)
class Invitation:
    id: str
    requester_id: str
    requester_username: str
    message: str
    state: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str
    decided_by_id: str
    reason: str
    notices: tuple[tuple[str, str], ...]
    platform: str = LEGACY_PLATFORM
    number: int = 0

    @property
    def open(self) -> bool:
        return self.state in (PENDING, ACCEPTING)


class InvitationRecords:
    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        ensure_schema(self.engine)
        OutboxStore(store)  # the effects below are queued in its table

    def create(
        self,
        requester_id: str,
        username: str,
        message: str,
        now: datetime,
        effects: Callable[[str], Sequence[Effect]] | None = None,
        platform: str = LEGACY_PLATFORM,
    ) -> Invitation | None:
        """A new pending request, or None if this person already has an open one.

        `effects(new_id)` (the referents' notices) are queued in the same transaction."""
        for _attempt in range(5):
            new_id = secrets.token_hex(8)
            try:
                self._insert(new_id, requester_id, username, message, now, effects, platform)
            except (IntegrityError, OperationalError) as error:
                if isinstance(error, OperationalError) and "locked" not in str(error).lower():
                    raise
                if self.open_for(requester_id) is not None:
                    return None
                # Another request took the same number at the same instant (SQLite may say
                # "locked" when a concurrent writer overtook our read): take the next one.
                continue
            return self.get(new_id)
        return None

    def _insert(
        self,
        new_id: str,
        requester_id: str,
        username: str,
        message: str,
        now: datetime,
        effects: Callable[[str], Sequence[Effect]] | None,
        platform: str,
    ) -> None:
        with self.engine.begin() as connection:
            number = (connection.execute(select(func.max(invitations.c.number))).scalar() or 0) + 1
            connection.execute(
                insert(invitations).values(
                    id=new_id,
                    platform=platform,
                    number=number,
                    requester_id=requester_id,
                    requester_username=username,
                    message=message,
                    state=PENDING,
                    created_at=now,
                    decided_by="",
                    decided_by_id="",
                    reason="",
                    notices="[]",
                )
            )
            if effects is not None:
                OutboxStore.add_in(connection, effects(new_id), now)

    def _first(self, query: Select[Any]) -> Invitation | None:
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _invitation(row)

    def get(self, invitation_id: str) -> Invitation | None:
        return self._first(select(invitations).where(invitations.c.id == invitation_id))

    def by_number(self, number: int) -> Invitation | None:
        return self._first(select(invitations).where(invitations.c.number == number))

    def open_for(self, requester_id: str) -> Invitation | None:
        return self._first(
            select(invitations).where(
                invitations.c.requester_id == requester_id,
                invitations.c.state.in_([PENDING, ACCEPTING]),
            )
        )

    def last_declined(self, requester_id: str) -> Invitation | None:
        return self._first(
            select(invitations)
            .where(invitations.c.requester_id == requester_id, invitations.c.state == DECLINED)
            .order_by(invitations.c.decided_at.desc())
        )

    def open_requests(self, platform: str | None = None) -> list[Invitation]:
        """Open requests, oldest first; only those made on `platform` when given."""
        query = select(invitations).where(invitations.c.state.in_([PENDING, ACCEPTING]))
        if platform is not None:
            query = query.where(invitations.c.platform == platform)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(invitations.c.created_at)).all()
        return [_invitation(row) for row in rows]

    def add_notice(self, invitation_id: str, channel_id: str, post_id: str) -> None:
        with self.engine.begin() as connection:
            current = connection.execute(
                select(invitations.c.notices).where(invitations.c.id == invitation_id)
            ).scalar_one()
            notices = json.loads(current)
            if [channel_id, post_id] in notices:  # a retried notice found its first copy
                return
            notices.append([channel_id, post_id])
            connection.execute(
                update(invitations)
                .where(invitations.c.id == invitation_id)
                .values(notices=json.dumps(notices))
            )

    def begin(
        self,
        invitation_id: str,
        accept: bool,
        username: str,
        user_id: str,
        now: datetime,
        reason: str = "",
        stale_after: timedelta = timedelta(minutes=2),
        effects: Sequence[Effect] = (),
    ) -> bool:
        """Take the decision: True for the one caller who wins it.

        Accepting goes through "accepting" until the channel add succeeds; a holder that
        crashed meanwhile is overtaken after `stale_after`. `effects` (what a decline
        sends) are queued in the same transaction, only by the winner.
        """
        with self.engine.begin() as connection:
            result = connection.execute(
                update(invitations)
                .where(
                    invitations.c.id == invitation_id,
                    (invitations.c.state == PENDING)
                    | (
                        (invitations.c.state == ACCEPTING)
                        & (invitations.c.decided_at < now - stale_after)
                    ),
                )
                .values(
                    state=ACCEPTING if accept else DECLINED,
                    decided_at=now,
                    decided_by=username,
                    decided_by_id=user_id,
                    reason=reason,
                )
            )
            won = result.rowcount == 1
            if won:
                OutboxStore.add_in(connection, effects, now)
        return won

    def finish_accept(
        self, invitation_id: str, user_id: str, now: datetime, effects: Sequence[Effect] = ()
    ) -> bool:
        """The add succeeded: accepted, and `effects` queued in the same transaction."""
        return self._leave_accepting(
            invitation_id, user_id, effects, now, state=ACCEPTED, decided_at=now
        )

    def abort_accept(self, invitation_id: str, user_id: str) -> bool:
        """The add failed: the request is open again, as if nobody had clicked."""
        return self._leave_accepting(
            invitation_id,
            user_id,
            (),
            None,
            state=PENDING,
            decided_at=None,
            decided_by="",
            decided_by_id="",
        )

    def _leave_accepting(
        self,
        invitation_id: str,
        user_id: str,
        effects: Sequence[Effect],
        now: datetime | None,
        **values: object,
    ) -> bool:
        """Move out of "accepting", only for the referent who holds it."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(invitations)
                .where(
                    invitations.c.id == invitation_id,
                    invitations.c.state == ACCEPTING,
                    invitations.c.decided_by_id == user_id,
                )
                .values(**values)
            )
            left = result.rowcount == 1
            if left and effects and now is not None:
                OutboxStore.add_in(connection, effects, now)
        return left

    def stuck_accepting(self, cutoff: datetime) -> list[Invitation]:
        """Requests left "accepting" since before `cutoff`: their holder is presumed dead."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(invitations).where(
                    invitations.c.state == ACCEPTING, invitations.c.decided_at < cutoff
                )
            ).all()
        return [_invitation(row) for row in rows]

    def mark_recalled(self, invitation_ids: list[str], now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(invitations)
                .where(invitations.c.id.in_(invitation_ids))
                .values(recalled_at=now)
            )

    def purge_decided_before(self, cutoff: datetime) -> list[str]:
        with self.engine.begin() as connection:
            ids = [
                str(row[0])
                for row in connection.execute(
                    select(invitations.c.id).where(
                        invitations.c.state.in_([ACCEPTED, DECLINED]),
                        invitations.c.decided_at < cutoff,
                    )
                )
            ]
            if ids:
                connection.execute(delete(invitations).where(invitations.c.id.in_(ids)))
        return ids

    def purge_pending_before(self, cutoff: datetime) -> list[str]:
        """Delete the requests left pending (never decided) since before `cutoff`; an
        "accepting" one is being decided and stays (its holder finishes or releases it)."""
        with self.engine.begin() as connection:
            ids = [
                str(row[0])
                for row in connection.execute(
                    select(invitations.c.id).where(
                        invitations.c.state == PENDING, invitations.c.created_at < cutoff
                    )
                )
            ]
            if ids:
                connection.execute(
                    delete(invitations).where(
                        invitations.c.id.in_(ids), invitations.c.state == PENDING
                    )
                )
        return ids


def _invitation(row: Row[tuple[object, ...]]) -> Invitation:
    data = row._mapping
    return Invitation(
        id=str(data["id"]),
        requester_id=str(data["requester_id"]),
        requester_username=str(data["requester_username"]),
        message=str(data["message"]),
        state=str(data["state"]),
        created_at=data["created_at"],
        decided_at=data["decided_at"],
        decided_by=str(data["decided_by"] or ""),
        decided_by_id=str(data["decided_by_id"] or ""),
        reason=str(data["reason"] or ""),
        notices=tuple((str(c), str(p)) for c, p in json.loads(str(data["notices"] or "[]"))),
        platform=str(data["platform"] or LEGACY_PLATFORM),
        number=int(data["number"] or 0),
    )
