"""The mautrix client with one look-up less per reply in a room that is not encrypted.

Before each send, mautrix asks its state store whether the room is encrypted; the
store only ever records "encrypted", so for a plain room (« Domaine-intras ») the
answer is "unknown" every time and mautrix fetches `m.room.encryption` (a 404) before
every reply: one more round trip, and one more request against Tchap's one per second.
Here the 404 is remembered; an `m.room.encryption` event arriving later (a room
turning encrypted) still switches the room to encrypted, as mautrix records it.
"""

from __future__ import annotations

from typing import Any

from mautrix.client import Client
from mautrix.errors import MNotFound
from mautrix.types import EventContent, EventID, EventType, RoomID

from bot.adapters.matrix.stores import RoomStateStore


class BotClient(Client):
    async def send_message_event(
        self,
        room_id: RoomID,
        event_type: EventType,
        content: EventContent,
        *args: Any,
        **kwargs: Any,
    ) -> EventID:
        state = self.state_store
        if (
            self.crypto
            and not kwargs.get("disable_encryption")
            and isinstance(state, RoomStateStore)
            and await state.is_encrypted(room_id) is None
        ):
            try:
                encryption = await self.get_state_event(room_id, EventType.ROOM_ENCRYPTION)
            except MNotFound:
                await state.set_unencrypted(room_id)
            else:
                await state.set_encryption_info(room_id, encryption)  # type: ignore[arg-type]
        return await super().send_message_event(room_id, event_type, content, *args, **kwargs)
