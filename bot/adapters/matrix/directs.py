"""The bot's DM room with each person: created once, encrypted, remembered in the store.

Tchap's « direct » kind: a trusted private room, encrypted from its creation. The room id
is kept in the store, so a restart or another replica reuses it while both are still in it;
a record unused for `[matrix] dm_retention_days` is forgotten (the next DM opens a new room).
"""

from __future__ import annotations

import asyncio
import logging

from mautrix.client import Client
from mautrix.errors import MatrixError
from mautrix.types import (
    EncryptionAlgorithm,
    EventType,
    Membership,
    RoomCreatePreset,
    RoomEncryptionStateEventContent,
    RoomID,
    UserID,
)

from bot.store import Store

log = logging.getLogger(__name__)

_ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


class DirectRooms:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = asyncio.Lock()  # one DM room per person, even for two calls at once

    async def room(self, client: Client, user_id: str) -> RoomID:
        """The remembered room while both are in it, else a new one."""
        key = _key(client, user_id)
        async with self._lock:
            known = await asyncio.to_thread(self._store.get_value, key)
            if known and await _usable(client, RoomID(known), UserID(user_id)):
                # In use: kept another [matrix] dm_retention_days (bot/retention.py).
                await asyncio.to_thread(self._store.set_value, key, known)
                return RoomID(known)
            room = await client.create_room(
                preset=RoomCreatePreset.TRUSTED_PRIVATE,
                is_direct=True,
                invitees=[UserID(user_id)],
                initial_state=[_ENCRYPTION],
            )
            # Room keys must reach the invited person too, before they join: tell the state
            # cache the room is encrypted and load its full member list (invites included).
            state = client.state_store
            if state is not None:
                await state.set_encryption_info(
                    room, RoomEncryptionStateEventContent(algorithm=EncryptionAlgorithm.MEGOLM_V1)
                )
            await client.get_members(room)
            await asyncio.to_thread(self._store.set_value, key, str(room))
            log.info("event=matrix_dm_created room_id=%s user_id=%s", room, user_id)
            return room


async def _usable(client: Client, room: RoomID, user_id: UserID) -> bool:
    state = client.state_store
    if state is None:
        return False
    # Unknown (None) is not a reason to make another room: only a known departure is.
    mine = await state.get_membership(room, client.mxid)
    theirs = await state.get_membership(room, user_id)
    return mine in (None, Membership.JOIN) and theirs in (None, Membership.JOIN, Membership.INVITE)


def _key(client: Client, user_id: str) -> str:
    return f"matrix.dm:{client.mxid}:{user_id}"


async def is_dm_with(client: Client, store: Store, room_id: RoomID, user_id: str) -> bool:
    """Whether `room_id` is the bot's DM with `user_id`: the room made for them above, or
    one the bot's `m.direct` account data lists for them.

    Two members are not enough: a public or unencrypted room where nobody else has joined
    yet would do, and a reply for the asker only (their requests, the stats) would stay
    there for whoever joins next.
    """
    if await asyncio.to_thread(store.get_value, _key(client, user_id)) == str(room_id):
        return True
    try:
        direct = await client.get_account_data(EventType.DIRECT)
    except (MatrixError, OSError, TimeoutError) as error:  # none set (404), or unreachable
        log.info("event=matrix_direct_unknown room_id=%s error=%r", room_id, str(error)[:200])
        return False
    rooms = direct.get(user_id) if isinstance(direct, dict) else None
    return isinstance(rooms, list) and str(room_id) in rooms
