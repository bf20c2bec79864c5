"""What each club subscriber was told of each occurrence (`subscription_club_told`): the
start in their notice, or its cancellation. A change since is told to them once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, insert, select, update

from bot.schema import create_tables
from bot.store import Store
from bot.subscriptions.schema import club_told


@dataclass(frozen=True)
class Told:
    platform: str
    user_id: str
    occurrence: str
    start: datetime | None  # None: told it was cancelled
    told_at: datetime


class ToldRecords:
    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        create_tables(self.engine, [club_told])

    def record(
        self, platform: str, user_id: str, occurrence: str, start: datetime | None, now: datetime
    ) -> None:
        c = club_told.c
        where = (c.platform == platform, c.user_id == user_id, c.occurrence == occurrence)
        with self.engine.begin() as connection:
            changed = connection.execute(
                update(club_told).where(*where).values(start=start, told_at=now)
            )
            if not changed.rowcount:
                connection.execute(
                    insert(club_told).values(
                        platform=platform,
                        user_id=user_id,
                        occurrence=occurrence,
                        start=start,
                        told_at=now,
                    )
                )

    def get(self, platform: str, user_id: str, occurrence: str) -> Told | None:
        c = club_told.c
        found = self._select(
            c.platform == platform, c.user_id == user_id, c.occurrence == occurrence
        )
        return found[0] if found else None

    def of_occurrences(self, occurrences: Iterable[str]) -> list[Told]:
        return self._select(club_told.c.occurrence.in_(list(occurrences)))

    def of_ids(self, user_ids: Iterable[str]) -> list[Told]:
        return self._select(club_told.c.user_id.in_(list(user_ids)))

    def forget(self, platform: str | None, user_ids: Iterable[str]) -> int:
        """Delete the person's rows (on one platform, or on all with None)."""
        c = club_told.c
        where: list[ColumnElement[bool]] = [c.user_id.in_(list(user_ids))]
        if platform is not None:
            where.append(c.platform == platform)
        with self.engine.begin() as connection:
            return int(connection.execute(delete(club_told).where(*where)).rowcount or 0)

    def occurrence_keys(self) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(club_told.c.occurrence).distinct()).all()
        return [str(row[0]) for row in rows]

    def delete_occurrences(self, occurrences: Iterable[str]) -> int:
        """Delete the rows of these occurrences (past ones: nothing more to tell)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(club_told).where(club_told.c.occurrence.in_(list(occurrences)))
            )
        return int(result.rowcount or 0)

    def _select(self, *where: object) -> list[Told]:
        c = club_told.c
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(c.platform, c.user_id, c.occurrence, c.start, c.told_at).where(*where)  # type: ignore[arg-type]
            ).all()
        return [Told(str(r[0]), str(r[1]), str(r[2]), r[3], r[4]) for r in rows]
