"""Subscriptions in the store: taken, dropped, listed, counted. Each change is one statement.

Subscribing twice is one subscription (the primary key decides, even between replicas).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.schema import create_tables
from bot.store import Store
from bot.subscriptions.schema import CLUB, club_told, subscriptions


@dataclass(frozen=True)
class Subscription:
    platform: str
    user_id: str
    kind: str
    token: str
    created_at: datetime


class SubscriptionRecords:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        create_tables(self.engine, [subscriptions, club_told])

    def subscribe(self, platform: str, user_id: str, kind: str, now: datetime) -> bool:
        """True if the person was not subscribed to `kind` on `platform` yet."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(subscriptions).values(
                        platform=platform,
                        user_id=user_id,
                        kind=kind,
                        token=secrets.token_urlsafe(24),
                        created_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def unsubscribe(self, platform: str, user_id: str, kinds: Iterable[str]) -> list[str]:
        """Drop the person's subscriptions of these kinds; the kinds that were active."""
        c = subscriptions.c
        dropped = []
        with self.engine.begin() as connection:
            for kind in kinds:
                result = connection.execute(
                    delete(subscriptions).where(
                        c.platform == platform, c.user_id == user_id, c.kind == kind
                    )
                )
                if result.rowcount:
                    dropped.append(kind)
                if kind == CLUB:  # what they were told of the club: kept only while subscribed
                    connection.execute(
                        delete(club_told).where(
                            club_told.c.platform == platform, club_told.c.user_id == user_id
                        )
                    )
        return dropped

    def of_person(self, platform: str, user_id: str) -> list[Subscription]:
        c = subscriptions.c
        return self._select(c.platform == platform, c.user_id == user_id)

    def get(self, platform: str, user_id: str, kind: str) -> Subscription | None:
        c = subscriptions.c
        found = self._select(c.platform == platform, c.user_id == user_id, c.kind == kind)
        return found[0] if found else None

    def of_kind(self, kind: str) -> list[Subscription]:
        return self._select(subscriptions.c.kind == kind)

    def by_token(self, token: str) -> Subscription | None:
        found = self._select(subscriptions.c.token == token)
        return found[0] if found else None

    def of_ids(self, user_ids: Iterable[str]) -> list[Subscription]:
        return self._select(subscriptions.c.user_id.in_(list(user_ids)))

    def counts(self) -> dict[str, int]:
        """kind -> number of active subscriptions (never who)."""
        c = subscriptions.c
        with self.engine.connect() as connection:
            rows = connection.execute(select(c.kind, func.count()).group_by(c.kind)).all()
        return {str(row[0]): int(row[1]) for row in rows}

    def _select(self, *where: object) -> list[Subscription]:
        c = subscriptions.c
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(c.platform, c.user_id, c.kind, c.token, c.created_at)
                .where(*where)  # type: ignore[arg-type]
                .order_by(c.created_at, c.kind)
            ).all()
        return [Subscription(str(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4]) for r in rows]
