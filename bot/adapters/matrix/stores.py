"""Where the Matrix client keeps its state: crypto keys, room state, the sync token.

One database, two mautrix schemas sharing a connection pool: the crypto store
(Olm account, sessions, device lists, and the sync token beside them, so the
token never runs ahead of the keys it depends on) and the room state cache
(members, encryption). SQLite by default, next to the bot's store; PostgreSQL
for replicas. Their tables are prefixed (`crypto_`, `mx_`), so they can share
the bot's PostgreSQL database (the state cache also creates an enum type `membership`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from mautrix.client.state_store.asyncpg import PgStateStore
from mautrix.crypto import PgCryptoStore
from mautrix.crypto import StateStore as CryptoStateStore
from mautrix.types import RoomID
from mautrix.util.async_db import Database

from bot.files import private_file


class RoomStateStore(PgStateStore, CryptoStateStore):
    """mautrix's SQL room state cache, also declared as the crypto machine's state store."""

    # mautrix's two StateStore bases disagree (bool | None vs bool): the client's is right.
    async def is_encrypted(self, room_id: RoomID) -> bool | None:  # type: ignore[override]
        value = await super().is_encrypted(room_id)
        return None if value is None else bool(value)  # SQLite gives 0/1

    async def set_unencrypted(self, room_id: RoomID) -> None:
        """Record that `room_id` has no `m.room.encryption` (mautrix records only the opposite).

        Only over "unknown": an encryption event already recorded is never undone.
        """
        await self.db.execute(
            "INSERT INTO mx_room_state (room_id, is_encrypted) VALUES ($1, false) "
            "ON CONFLICT (room_id) DO UPDATE SET is_encrypted=false "
            "WHERE mx_room_state.is_encrypted IS NULL",
            room_id,
        )


class MatrixStoreError(Exception):
    """The crypto store cannot be used; the message is for operators."""


def crypto_store_url(explicit: str, store_url: str) -> str:
    """The mautrix database URL: `explicit`, or one derived from the bot's `[store] url`.

    `sqlite:///intra-bot.sqlite3` -> `sqlite:/abs/dir/intra-bot-matrix.sqlite3` (a file of
    its own: two drivers on one SQLite file would fight over its lock);
    `postgresql+psycopg://u:p@h/db` -> `postgresql://u:p@h/db` (same database, asyncpg).
    """
    if explicit:
        return explicit
    if store_url.startswith("sqlite:///"):
        path = store_url.removeprefix("sqlite:///")
        if path in ("", ":memory:"):
            raise MatrixStoreError(
                "matrix.crypto_store_url: the bot's store is in memory, but the crypto keys "
                "must survive a restart: set matrix.crypto_store_url (e.g. sqlite:/var/lib/intra-bot/matrix.sqlite3)"
            )
        file = Path(path).expanduser().resolve()
        return f"sqlite:{file.with_name(file.stem + '-matrix' + (file.suffix or '.sqlite3'))}"
    scheme, sep, rest = store_url.partition("://")
    if sep and scheme.split("+", 1)[0] in ("postgresql", "postgres"):
        return f"postgresql://{rest}"
    raise MatrixStoreError(
        f"matrix.crypto_store_url: cannot derive a crypto store from the store URL scheme "
        f"'{scheme}': set matrix.crypto_store_url (sqlite:PATH or postgresql://...)"
    )


@dataclass
class MatrixStores:
    crypto_db: Database
    state_db: Database
    crypto: PgCryptoStore
    state: RoomStateStore

    @classmethod
    async def open(cls, url: str, account_id: str, pickle_key: str) -> MatrixStores:
        if url.startswith("sqlite:"):
            private_file(Path(url.removeprefix("sqlite:")))  # keys: 0600, -wal/-shm alike
        crypto_db = Database.create(url, upgrade_table=PgCryptoStore.upgrade_table)
        state_db = Database.create(url, upgrade_table=PgStateStore.upgrade_table)
        try:
            await crypto_db.start()
            # after start: PostgreSQL hands over its pool as it is then (none before start)
            state_db.override_pool(crypto_db)
            await state_db.start()
        except Exception as error:
            with contextlib.suppress(Exception):
                await crypto_db.stop()
            raise MatrixStoreError(
                f"cannot open the crypto store: {error.__class__.__name__}: {error}"
            ) from None
        crypto = PgCryptoStore(account_id, pickle_key, crypto_db)
        await crypto.open()
        return cls(crypto_db, state_db, crypto, RoomStateStore(state_db))

    async def close(self) -> None:
        await self.crypto.close()
        await self.crypto_db.stop()
