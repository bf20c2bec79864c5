"""Posting for the core's services: in a room (threaded or not) and to one person by DM.

Its `post` and `send_direct` are what the core's services will post through here, so welcome
DMs, replies seen by the asker only and the referents' notices can come to Matrix
without a new path. A person's DM room is created once (encrypted, Tchap's « direct »
kind) and remembered in the store, so a restart or another replica reuses it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mautrix.client import Client
from mautrix.types import (
    EncryptionAlgorithm,
    EventType,
    Membership,
    RoomCreatePreset,
    RoomEncryptionStateEventContent,
    RoomID,
    UserID,
)

from bot.adapters.matrix.render import in_thread, reply_content
from bot.chat import Reply
from bot.store import Store

log = logging.getLogger(__name__)

_ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


class MatrixPlatform:
    def __init__(self, client: Client, store: Store) -> None:
        self._client = client
        self._store = store
        self._lock = asyncio.Lock()  # one DM room per person, even for two calls at once

    async def post(self, channel_id: str, reply: Reply, *, thread_id: str = "") -> str:
        content = reply_content(reply)
        if thread_id:
            content = in_thread(content, thread_id, thread_id)
        return await self._send(RoomID(channel_id), content)

    async def send_direct(self, user_id: str, reply: Reply) -> str:
        room = await self.direct_room(user_id)
        return await self._send(room, reply_content(reply))

    async def direct_room(self, user_id: str) -> RoomID:
        """The bot's DM room with `user_id`: the remembered one while both are in it, else a new one."""
        key = f"matrix.dm:{self._client.mxid}:{user_id}"
        async with self._lock:
            known = await asyncio.to_thread(self._store.get_value, key)
            if known and await self._usable(RoomID(known), UserID(user_id)):
                return RoomID(known)
            room = await self._client.create_room(
                preset=RoomCreatePreset.TRUSTED_PRIVATE,
                is_direct=True,
                invitees=[UserID(user_id)],
                initial_state=[_ENCRYPTION],
            )
            # Room keys must reach the invited person too, before they join: tell the state
            # cache the room is encrypted and load its full member list (invites included).
            state = self._client.state_store
            if state is not None:
                await state.set_encryption_info(
                    room, RoomEncryptionStateEventContent(algorithm=EncryptionAlgorithm.MEGOLM_V1)
                )
            await self._client.get_members(room)
            await asyncio.to_thread(self._store.set_value, key, str(room))
            log.info("event=matrix_dm_created room_id=%s user_id=%s", room, user_id)
            return room

    async def _usable(self, room: RoomID, user_id: UserID) -> bool:
        state = self._client.state_store
        if state is None:
            return False
        # Unknown (None) is not a reason to make another room: only a known departure is.
        mine = await state.get_membership(room, self._client.mxid)
        theirs = await state.get_membership(room, user_id)
        return mine in (None, Membership.JOIN) and theirs in (
            None,
            Membership.JOIN,
            Membership.INVITE,
        )

    async def _send(self, room: RoomID, content: dict[str, Any]) -> str:
        event_id = await self._client.send_message_event(
            room,
            EventType.ROOM_MESSAGE,
            content,  # type: ignore[arg-type]  # mautrix serializes plain dicts as they are
        )
        return str(event_id)
