"""Matrix (Tchap) behind the core's one port (`bot.chat.ChatPlatform`).

It exists from start-up (the core's services and the greeter are built with it) and is
`bind`-ed to the client once the homeserver answers; before that every call raises
PlatformUnavailable, which the outbox and the reminders retry.

A post that must happen once carries its key twice: as the transaction id (a retry of
the same request, even from another replica on the same device, is the same event for
the homeserver) and in its content under `KEY_FIELD`, so an attempt that died before
recording its event id is found again in the room's recent history (decrypted when the
room is encrypted). A person's DM room is created once (encrypted, Tchap's « direct »
kind) and remembered in the store, so a restart or another replica reuses it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from typing import Any

from mautrix.client import Client
from mautrix.errors import DecryptionError, MatrixRequestError, MNotFound
from mautrix.types import (
    EncryptedEvent,
    EncryptionAlgorithm,
    EventType,
    Membership,
    PaginationDirection,
    RoomAlias,
    RoomCreatePreset,
    RoomEncryptionStateEventContent,
    RoomEventFilter,
    RoomID,
    SyncToken,
    UserID,
)

from bot.adapters.matrix.render import in_thread, reply_content
from bot.chat import NoSuchUser, PlatformUnavailable, Reply, User
from bot.store import Store

log = logging.getLogger(__name__)

# Where a keyed post carries its key (namespaced, as the spec asks of custom fields).
KEY_FIELD = "fr.beta.intra_bot.key"
# How far back a retried message looks for its own earlier copy (outbox leases are minutes).
RETRY_LOOKBACK = dt.timedelta(days=1)
PAGE_SIZE = 100
MAX_PAGES = 10  # the bot's own messages only: 1,000 of them is far beyond a day's

_ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


def transaction_id(key: str) -> str:
    """The same key gives the same transaction id, so the homeserver posts it once."""
    return "intra-bot-" + hashlib.sha256(key.encode()).hexdigest()[:32]


class MatrixPlatform:
    name = "matrix"

    def __init__(self, store: Store, *, public_room: str = "", private_room: str = "") -> None:
        self._store = store
        self.public_room = public_room
        # The private room invitations invite people into (id or alias, as configured).
        self.channel_name = private_room
        self._client: Client | None = None
        self._rooms: dict[str, RoomID] = {}
        self._lock = asyncio.Lock()  # one DM room per person, even for two calls at once

    def bind(self, client: Client, rooms: dict[str, str] | None = None) -> None:
        """The homeserver answered: the client to use, and the configured rooms resolved."""
        self._client = client
        self._rooms.update({name: RoomID(room) for name, room in (rooms or {}).items()})

    def unbind(self) -> None:
        self._client = None

    @property
    def bound(self) -> bool:
        return self._client is not None

    def _bound(self) -> Client:
        if self._client is None:
            raise PlatformUnavailable("Matrix has not connected yet")
        return self._client

    # -- the reminders --------------------------------------------------------------

    async def post_marked(self, channel_name: str, text: str, marker: str) -> str:
        room = await self.room_id(channel_name)
        return await self._send(room, reply_content(Reply(text)), marker)

    async def find_marked(self, channel_name: str, marker: str, since: dt.datetime) -> str | None:
        return await self._find(await self.room_id(channel_name), marker, since)

    # -- people and messages --------------------------------------------------------

    async def profile(self, user_id: str) -> User:
        client = self._bound()
        try:
            info = await client.get_profile(UserID(user_id))
        except MNotFound:
            raise NoSuchUser(user_id) from None
        except MatrixRequestError as error:
            if error.http_status == 404:
                raise NoSuchUser(user_id) from None
            raise
        # Matrix has no flag for bots: the welcome's « not a bot » is decided by who joined.
        return User(id=user_id, username=user_id, full_name=str(info.displayname or ""))

    async def send_direct(
        self, user_id: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        room = await self.direct_room(user_id)
        return str(room), await self._post_once(room, reply_content(reply), key, retry)

    async def post_in(
        self, channel_name: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        room = await self.room_id(channel_name)
        return str(room), await self._post_once(room, reply_content(reply), key, retry)

    async def post(
        self,
        channel_id: str,
        reply: Reply,
        *,
        thread_id: str = "",
        reply_to: str = "",
        key: str = "",
    ) -> str:
        """A reply where a question was asked (in its thread when `thread_id`)."""
        content = reply_content(reply)
        if thread_id:
            content = in_thread(content, thread_id, reply_to or thread_id)
        return await self._send(RoomID(channel_id), content, key)

    async def room_id(self, name: str) -> RoomID:
        """A configured room (id or alias) as its id; aliases are resolved once."""
        client = self._bound()
        if name not in self._rooms:
            if name.startswith("#"):
                info = await client.resolve_room_alias(RoomAlias(name))
                self._rooms[name] = info.room_id
            else:
                self._rooms[name] = RoomID(name)
        return self._rooms[name]

    async def direct_room(self, user_id: str) -> RoomID:
        """The bot's DM room with `user_id`: the remembered one while both are in it, else a new one."""
        client = self._bound()
        key = f"matrix.dm:{client.mxid}:{user_id}"
        async with self._lock:
            known = await asyncio.to_thread(self._store.get_value, key)
            if known and await self._usable(RoomID(known), UserID(user_id)):
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

    async def _usable(self, room: RoomID, user_id: UserID) -> bool:
        client = self._bound()
        state = client.state_store
        if state is None:
            return False
        # Unknown (None) is not a reason to make another room: only a known departure is.
        mine = await state.get_membership(room, client.mxid)
        theirs = await state.get_membership(room, user_id)
        return mine in (None, Membership.JOIN) and theirs in (
            None,
            Membership.JOIN,
            Membership.INVITE,
        )

    async def _post_once(self, room: RoomID, content: dict[str, Any], key: str, retry: bool) -> str:
        """Send; a retried keyed post is first looked for (an attempt may have died after
        the homeserver took it and before its event id was recorded)."""
        if key and retry:
            since = dt.datetime.now(dt.UTC) - RETRY_LOOKBACK
            found = await self._find(room, key, since)
            if found:
                log.info("event=outbox_already_sent key=%s event_id=%s", key, found)
                return found
        return await self._send(room, content, key)

    async def _send(self, room: RoomID, content: dict[str, Any], key: str = "") -> str:
        client = self._bound()
        if key:
            content = {**content, KEY_FIELD: key}
        event_id = await client.send_message_event(
            room,
            EventType.ROOM_MESSAGE,
            content,  # type: ignore[arg-type]  # mautrix serializes plain dicts as they are
            txn_id=transaction_id(key) if key else None,
        )
        return str(event_id)

    async def _find(self, room: RoomID, key: str, since: dt.datetime) -> str | None:
        """The bot's own event carrying `key`, newest first, back to `since`."""
        client = self._bound()
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
                if await self._key_of(event) == key:
                    return str(event.event_id)
            end: SyncToken | None = getattr(page, "end", None)
            if not events or not end or end == token:
                return None
            token = end
        log.warning("event=matrix_marked_search_cut room_id=%s key=%s", room, key)
        return None

    async def _key_of(self, event: Any) -> str:
        if isinstance(event, EncryptedEvent):
            crypto = self._bound().crypto
            if crypto is None:
                return ""
            try:
                event = await crypto.decrypt_megolm_event(event)
            except DecryptionError:
                return ""
        content = event.content.serialize()
        return str(content.get(KEY_FIELD) or "")
