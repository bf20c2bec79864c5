"""Reminder claims: the right to post one reminder occurrence, taken with a lease.

First come wins; after the holder's lease runs out another process may take over
(`Claim.takeover`: the reminder may already be posted). Each step is one atomic
statement on `reminder_posts`, so two replicas never both hold an occurrence.
`Store` inherits these methods: `store.claim_reminder(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from bot.schema import reminder_posts


@dataclass(frozen=True)
class Claim:
    key: str
    owner: str
    takeover: bool  # someone claimed it before and vanished: it may already be posted
    claimed_at: datetime


class ReminderClaims:
    engine: Engine

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
