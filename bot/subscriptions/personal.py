"""One person's subscriptions, exported or erased (`intra-bot export|forget`).

A subscription is kept only while it is active: forgetting a person stops every one of
theirs, on every platform (their calendar links stop answering with them). The personal
messages already queued or sent are the outbox's rows, which name the person
(`user_id`): the outbox's keeper exports and erases those.
"""

from __future__ import annotations

from sqlalchemy import delete

from bot.personal_data.model import Outcome, Person, Rows, plain
from bot.store import Store
from bot.subscriptions.records import SubscriptionRecords
from bot.subscriptions.schema import subscriptions
from bot.subscriptions.told import ToldRecords


class SubscriptionsKeeper:
    name = "subscriptions"

    def __init__(self, store: Store) -> None:
        self._records = SubscriptionRecords(store)  # creates the tables if needed
        self._told = ToldRecords(store)

    async def known_as(self, person: Person) -> Person:
        return person

    async def export(self, person: Person) -> dict[str, Rows]:
        rows = [
            plain(
                {
                    "platform": found.platform,
                    "user_id": found.user_id,
                    "kind": found.kind,
                    "calendar_token": found.token,
                    "created_at": found.created_at,
                }
            )
            for found in self._records.of_ids(person.ids)
        ]
        told = [
            plain(
                {
                    "platform": row.platform,
                    "user_id": row.user_id,
                    "occurrence": row.occurrence,
                    "start_told": row.start,
                    "told_at": row.told_at,
                }
            )
            for row in self._told.of_ids(person.ids)
        ]
        return {"subscriptions": rows, "subscription_club_told": told}

    async def forget(self, person: Person) -> list[Outcome]:
        with self._records.engine.begin() as connection:
            deleted = connection.execute(
                delete(subscriptions).where(subscriptions.c.user_id.in_(list(person.ids)))
            ).rowcount
        told = self._told.forget(None, person.ids)
        return [
            Outcome("subscriptions", int(deleted or 0), "rows deleted (personal reminders)"),
            Outcome("subscription_club_told", told, "rows deleted (what each club notice said)"),
        ]
