"""One person's rows in the outbox, exported or erased (`intra-bot forget`).

A row is theirs when its payload names them (`user_id`: a welcome, a decision told to
them, a recall sent to them; `username`: a notice sent to them as a referent) or one of
their records (`id`: a notice or its update about their request, from the person's
`refs`). A welcome's row is also the record that they were welcomed: once erased, they
would be welcomed again if they joined the public channel again.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.outbox.store import OutboxStore, outbox
from bot.personal_data.model import Outcome, Person, Rows, plain
from bot.store import Store

# Someone else's details in a row sent to the person (a requester's name in the notice a
# referent received): left out of the person's export.
_ABOUT_OTHERS = ("full_name", "position")


class OutboxKeeper:
    name = "outbox"

    def __init__(self, store: Store) -> None:
        OutboxStore(store)  # creates the table if needed
        self._engine = store.engine

    async def known_as(self, person: Person) -> Person:
        return person

    def _theirs(self, person: Person) -> list[tuple[dict[str, Any], bool]]:
        """Their rows, each with whether it is about them (else only sent to them)."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(outbox).order_by(outbox.c.created_at)).all()
        found = []
        for row in rows:
            data = dict(row._mapping)
            payload = _payload(str(data["payload"]))
            about = str(payload.get("id", "")) in person.refs
            to_them = (
                str(payload.get("user_id", "")) in person.ids
                or str(payload.get("username", "")) in person.usernames
            )
            if about or to_them:
                data["payload"] = payload
                found.append((data, about))
        return found

    async def export(self, person: Person) -> dict[str, Rows]:
        rows = []
        for data, about in self._theirs(person):
            if not about:
                data["payload"] = {
                    k: v for k, v in data["payload"].items() if k not in _ABOUT_OTHERS
                }
            rows.append(plain({k: v for k, v in data.items() if k != "owner"}))
        return {"outbox": rows}

    async def forget(self, person: Person) -> list[Outcome]:
        keys = [str(data["key"]) for data, _ in self._theirs(person)]
        deleted = 0
        with self._engine.begin() as connection:
            for key in keys:
                deleted += int(
                    connection.execute(outbox.delete().where(outbox.c.key == key)).rowcount or 0
                )
        return [Outcome("outbox", deleted, "rows deleted (welcome records, messages and notices)")]


def _payload(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
