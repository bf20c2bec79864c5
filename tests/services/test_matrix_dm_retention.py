"""A person's Matrix DM room record: rewritten each time the bot uses it, forgotten once
unused for [matrix] dm_retention_days, after which the next DM opens a new room."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bot import named_values
from bot.adapters.matrix.directs import DirectRooms
from bot.answers.question_log import QuestionLog
from bot.config import Settings
from bot.outbox.store import OutboxStore
from bot.retention import Retention
from bot.store import Store

BOT = "@intra-bot:agent.dinum.tchap.gouv.fr"
ACTIVE = "@active:agent.dinum.tchap.gouv.fr"
QUIET = "@quiet:agent.dinum.tchap.gouv.fr"
NOW = dt.datetime.now(dt.UTC)


class State:
    """Memberships unknown (None): the remembered room stays usable, as after a restart."""

    async def get_membership(self, room_id: str, user_id: str) -> None:
        return None

    async def set_encryption_info(self, room_id: str, content: object) -> None:
        pass


class Client:
    mxid = BOT

    def __init__(self) -> None:
        self.state_store = State()
        self.created: list[list[str]] = []

    async def create_room(self, *, invitees: list[str], **_options: Any) -> str:
        self.created.append(invitees)
        return f"!new{len(self.created)}:agent.dinum.tchap.gouv.fr"

    async def get_members(self, room_id: str) -> list[str]:
        return []


def updated_at(store: Store, user_id: str) -> dt.datetime:
    [record] = named_values.with_prefix(store, f"matrix.dm:{BOT}:{user_id}")
    return record.updated_at


async def test_a_room_in_use_is_kept_and_an_unused_one_forgotten(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/bot.db")
    long_ago = NOW - dt.timedelta(days=40)
    store.set_value(f"matrix.dm:{BOT}:{ACTIVE}", "!active:s", now=long_ago)
    store.set_value(f"matrix.dm:{BOT}:{QUIET}", "!quiet:s", now=long_ago)
    client, rooms = Client(), DirectRooms(store)

    assert await rooms.room(client, ACTIVE) == "!active:s"  # type: ignore[arg-type]
    assert updated_at(store, ACTIVE) > NOW - dt.timedelta(minutes=1)

    settings = Settings.model_validate({"matrix": {"dm_retention_days": 30}})
    retention = Retention(store, QuestionLog(store), OutboxStore(store), settings, lambda: NOW)
    await retention.forget_stale_values()
    assert store.get_value(f"matrix.dm:{BOT}:{ACTIVE}") == "!active:s"
    assert store.get_value(f"matrix.dm:{BOT}:{QUIET}") is None

    assert await rooms.room(client, QUIET) == "!new1:agent.dinum.tchap.gouv.fr"  # type: ignore[arg-type]
    assert client.created == [[QUIET]]
    store.close()
