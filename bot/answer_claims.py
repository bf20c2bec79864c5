"""Answer claims: the right to answer one question, held with a lease until the reply exists.

A DM or a mention is claimed (row `handled_events`, key `post:<id>` or `matrix:<event id>`)
by one process (`owner`) until `lease_until`; it is done (`lease_until` NULL) once its
reply is on the platform. A holder that died leaves its claim unfinished: after the lease
any replica takes it over (`AnswerClaim.takeover`: the reply may already exist, so it is
looked for by its key before anything is posted). Rows written before leases existed,
and `Store.claim_event`'s, have no lease: done. Each step is one atomic statement, so two
replicas never both hold a question. `Store` inherits these methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from bot.schema import handled_events

# A question whose answering failed this many times (a crash each time) is left alone.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class AnswerClaim:
    key: str
    owner: str
    takeover: bool  # an earlier holder vanished: its reply may already be posted


@dataclass(frozen=True)
class Unfinished:
    """A claim whose holder's lease ran out: where its question was, and since when."""

    key: str
    place: str  # the channel or room of the question
    claimed_at: datetime


class AnswerClaims:
    engine: Engine

    def claim_answer(
        self, key: str, owner: str, now: datetime, lease: timedelta, place: str = ""
    ) -> AnswerClaim | None:
        """Hold `key` until now + lease: the first caller, or one after a holder's lease ran
        out. None when it is answered, or held by a live holder."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(handled_events).values(
                        key=key,
                        handled_at=now,
                        owner=owner,
                        lease_until=now + lease,
                        place=place[:200],
                        attempts=1,
                    )
                )
            return AnswerClaim(key, owner, takeover=False)
        except IntegrityError:
            pass
        with self.engine.begin() as connection:
            taken = connection.execute(
                handled_events.update()
                .where(
                    handled_events.c.key == key,
                    handled_events.c.lease_until.is_not(None),
                    handled_events.c.lease_until < now,
                    handled_events.c.attempts < MAX_ATTEMPTS,
                )
                .values(
                    owner=owner, lease_until=now + lease, attempts=handled_events.c.attempts + 1
                )
            )
        return AnswerClaim(key, owner, takeover=True) if taken.rowcount == 1 else None

    def answer_done(self, claim: AnswerClaim) -> bool:
        """The reply exists: done for good. False if the claim was taken over meanwhile."""
        with self.engine.begin() as connection:
            result = connection.execute(
                handled_events.update()
                .where(
                    handled_events.c.key == claim.key,
                    handled_events.c.owner == claim.owner,
                    handled_events.c.lease_until.is_not(None),
                )
                .values(lease_until=None)
            )
        return result.rowcount == 1

    def unfinished_answers(
        self, prefix: str, now: datetime, since: datetime, limit: int = 50
    ) -> list[Unfinished]:
        """Claims under `prefix`, made since `since`, whose holder's lease ran out, oldest
        first: the questions a dead process left unanswered."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(handled_events.c.key, handled_events.c.place, handled_events.c.handled_at)
                .where(
                    handled_events.c.key.startswith(prefix),
                    handled_events.c.lease_until.is_not(None),
                    handled_events.c.lease_until < now,
                    handled_events.c.attempts < MAX_ATTEMPTS,
                    handled_events.c.handled_at >= since,
                )
                .order_by(handled_events.c.handled_at)
                .limit(limit)
            ).all()
        return [Unfinished(str(row[0]), str(row[1] or ""), row[2]) for row in rows]
