"""One person's Matrix data, exported or erased (`intra-bot forget`): the DM room the bot
keeps with them, the reaction choices of notices about their requests, and what mautrix's
room state cache holds about them (their membership, display name and avatar per room).

The state cache is mautrix's own table (`mx_user_profile`): their rows are deleted, and
each room they were in is marked as not fully known, so that the bot asks the homeserver
for its member list again before it next encrypts there (a member missing from a list
believed complete would not get the room's keys). While the person still shares a room
with the bot, the next sync brings their membership and name back: the homeserver holds
them, not the bot. The crypto store's device keys are left alone (see
docs/donnees-personnelles.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot import named_values
from bot.adapters.matrix.notices import CHOICES
from bot.personal_data.model import MXID, Outcome, Person, Rows, plain
from bot.store import Store

DIRECT = "matrix.dm:"  # bot/adapters/matrix/directs.py: matrix.dm:<bot>:<person>
_MEMBERS = "SELECT room_id, user_id, membership, displayname, avatar_url FROM mx_user_profile WHERE user_id=$1"


class MatrixKeeper:
    name = "matrix"

    def __init__(self, store: Store, state_url: str) -> None:
        """`state_url`: mautrix's database (crypto_store_url); "" when there is none."""
        self._store = store
        self._state_url = state_url

    async def known_as(self, person: Person) -> Person:
        return person

    def _mxids(self, person: Person) -> list[str]:
        return sorted(i for i in person.ids if MXID.match(i))

    def _directs(self, person: Person) -> list[named_values.NamedValue]:
        ends = tuple(f":{mxid}" for mxid in self._mxids(person))
        if not ends:
            return []
        return [v for v in named_values.with_prefix(self._store, DIRECT) if v.name.endswith(ends)]

    def _choices(self, person: Person) -> list[named_values.NamedValue]:
        """Reaction choices of notices about their requests: [action, request id] each."""
        found = []
        for item in named_values.with_prefix(self._store, CHOICES):
            try:
                offered = json.loads(item.value)
                ids = {str(choice[1]) for choice in offered.values()}
            except (ValueError, TypeError, IndexError, AttributeError):
                continue
            if ids & person.refs:
                found.append(item)
        return found

    async def export(self, person: Person) -> dict[str, Rows]:
        directs = [
            plain({"name": v.name, "room_id": v.value, "updated_at": v.updated_at})
            for v in self._directs(person)
        ]
        members: Rows = []
        db = await self._state_db()
        if db is not None:
            try:
                for mxid in self._mxids(person):
                    members.extend(dict(row) for row in await db.fetch(_MEMBERS, mxid))
            finally:
                await db.stop()
        return {"kv_values (matrix DM rooms)": directs, "mx_user_profile": members}

    async def forget(self, person: Person) -> list[Outcome]:
        directs = named_values.forget(self._store, [v.name for v in self._directs(person)])
        choices = named_values.forget(self._store, [v.name for v in self._choices(person)])
        outcomes = [
            Outcome("kv_values", directs, "Matrix DM room records deleted"),
            Outcome("kv_values", choices, "Matrix reaction choices of their requests deleted"),
        ]
        db = await self._state_db()
        if db is None:
            return [*outcomes, Outcome("mx_user_profile", 0, "rows: no Matrix state store")]
        deleted = 0
        try:
            for mxid in self._mxids(person):
                rooms = [row["room_id"] for row in await db.fetch(_MEMBERS, mxid)]
                for room in rooms:
                    await db.execute(
                        "DELETE FROM mx_user_profile WHERE room_id=$1 AND user_id=$2", room, mxid
                    )
                    await db.execute(
                        "UPDATE mx_room_state SET has_full_member_list=false WHERE room_id=$1",
                        room,
                    )
                deleted += len(rooms)
        finally:
            await db.stop()
        return [
            *outcomes,
            Outcome("mx_user_profile", deleted, "member rows deleted (Matrix room state cache)"),
        ]

    async def _state_db(self) -> Any:
        """mautrix's database when it exists and holds the room state cache; else None.

        Opened without its migrations: this command never creates or upgrades it."""
        if not self._state_url:
            return None
        sqlite = self._state_url.startswith("sqlite:")
        if sqlite and not Path(self._state_url.removeprefix("sqlite:")).exists():
            return None
        from mautrix.util.async_db import Database

        db = Database.create(self._state_url)
        await db.start()
        if not await db.table_exists("mx_user_profile"):
            await db.stop()
            return None
        return db
