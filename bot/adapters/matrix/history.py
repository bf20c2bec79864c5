"""The bot's own keyed messages, found again in a room's recent history.

A post that must happen once carries its key in its content (`KEY_FIELD`); an attempt
that died before recording the event id is found here, newest first, back to `since`,
decrypting the bot's own messages in encrypted rooms (it keeps its outbound sessions).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from mautrix.client import Client
from mautrix.errors import DecryptionError
from mautrix.types import (
    EncryptedEvent,
    EventType,
    PaginationDirection,
    RoomEventFilter,
    RoomID,
    SyncToken,
)

log = logging.getLogger(__name__)

# Where a keyed post carries its key (namespaced, as the spec asks of custom fields).
KEY_FIELD = "fr.beta.intra_bot.key"
PAGE_SIZE = 100
MAX_PAGES = 10  # the bot's own messages only: 1,000 of them is far beyond a day's


async def find_keyed(client: Client, room: RoomID, key: str, since: dt.datetime) -> str | None:
    """The id of the bot's own event carrying `key`, sent since `since`, if any."""
    since_ms = int(since.timestamp() * 1000)
    only_mine = RoomEventFilter(
        senders=[client.mxid], types=[EventType.ROOM_MESSAGE, EventType.ROOM_ENCRYPTED]
    )
    token: SyncToken | None = None
    for _ in range(MAX_PAGES):
        page = await client.get_messages(
            room,
            PaginationDirection.BACKWARD,
            from_token=token,
            limit=PAGE_SIZE,
            filter_json=only_mine,
        )
        events: list[Any] = list(getattr(page, "events", []))
        for event in events:
            if event.timestamp < since_ms:
                return None
            if await _key_of(client, event) == key:
                return str(event.event_id)
        end: SyncToken | None = getattr(page, "end", None)
        if not events or not end or end == token:
            return None
        token = end
    log.warning("event=matrix_marked_search_cut room_id=%s key=%s", room, key)
    return None


async def _key_of(client: Client, event: Any) -> str:
    if isinstance(event, EncryptedEvent):
        if client.crypto is None:
            return ""
        try:
            event = await client.crypto.decrypt_megolm_event(event)
        except DecryptionError:
            return ""
    content = event.content.serialize()
    return str(content.get(KEY_FIELD) or "")
