"""Posting for the core's services: in a room (threaded or not) and to one person by DM.

Its `post` and `send_direct` are what the core's services will post through here, so welcome
DMs, replies seen by the asker only and the referents' notices can come to Matrix
without a new path. A person's DM room is created once (encrypted, Tchap's « direct »
kind) and remembered in the store, so a restart or another replica reuses it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from mautrix.client import Client
from mautrix.errors import MatrixConnectionError, MatrixRequestError, MForbidden, MNotFound
from mautrix.types import (
    EncryptionAlgorithm,
    EventType,
    Membership,
    PaginationDirection,
    PowerLevelStateEventContent,
    RoomAlias,
    RoomCreatePreset,
    RoomEncryptionStateEventContent,
    RoomID,
    UserID,
)

from bot.adapters.matrix import notices
from bot.adapters.matrix.render import in_thread, reply_content
from bot.chat import AddFailed, NoSuchUser, PlatformUnavailable, Reply, User
from bot.invitations.texts import MATRIX_UNAVAILABLE, cannot_invite
from bot.store import Store

log = logging.getLogger(__name__)

# Where a post that must be found again after a crash carries its outbox key or marker.
KEY_FIELD = "fr.beta.intra_bot.key"

_ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


class MatrixPlatform:
    name = "matrix"

    def __init__(self, client: Client | None, store: Store, channel_name: str = "") -> None:
        self._client = client  # None until `bind`, at start
        self._store = store
        self._lock = asyncio.Lock()  # one DM room per person, even for two calls at once
        # The private room invitations add people to (id or alias, from [matrix]).
        self.channel_name = channel_name
        self._private_id: RoomID | None = None  # invitations: its id, once resolved

    # -- F2 bridge: the minimum of F2's part (created at start-up, bound at start,
    # send_direct/post_in with the outbox key, profile, marked posts) that the invitations
    # need to run end to end in this branch. F2's versions of these replace them. ------

    def bind(self, client: Client | None) -> None:
        self._client = client

    @property
    def ready(self) -> bool:
        return self._client is not None

    def _live(self) -> Client:
        if self._client is None:
            raise PlatformUnavailable("Matrix is not connected yet")
        return self._client

    async def profile(self, user_id: str) -> User:
        try:
            name = await self._live().get_displayname(UserID(user_id))
        except MNotFound:
            raise NoSuchUser(user_id) from None
        return User(user_id, user_id, str(name or ""))

    async def post_marked(self, channel_name: str, text: str, marker: str) -> str:
        _, event_id = await self.post_in(channel_name, Reply(text), key=marker)
        return event_id

    async def find_marked(self, channel_name: str, marker: str, since: datetime) -> str | None:
        return await self._find_keyed(await self._room(channel_name), marker, since)

    async def post_in(
        self, channel_name: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        room = await self._room(channel_name)
        return str(room), await self._keyed_send(room, reply, key, retry)

    async def _keyed_send(self, room: RoomID, reply: Reply, key: str, retry: bool) -> str:
        if retry and key:
            since = datetime.now(UTC) - timedelta(days=1)
            found = await self._find_keyed(room, key, since)
            if found:
                return found
        content = reply_content(reply)
        if key:
            content[KEY_FIELD] = key
        return await self._send(room, content)

    async def _find_keyed(self, room: RoomID, key: str, since: datetime) -> str | None:
        client = self._live()
        start = None
        for _page in range(20):
            page: Any = await client.get_messages(
                room, PaginationDirection.BACKWARD, from_token=start
            )
            end, events = page.end, page.events  # a NamedTuple mypy does not see through
            for event in events:
                if event.timestamp / 1000 < since.timestamp():
                    return None
                raw = event.content.serialize() if hasattr(event.content, "serialize") else {}
                if event.sender == client.mxid and raw.get(KEY_FIELD) == key:
                    return str(event.event_id)
            if not events or not end:
                return None
            start = end
        return None

    async def _room(self, name: str) -> RoomID:
        if name.startswith("#"):
            return (await self._live().resolve_room_alias(RoomAlias(name))).room_id
        return RoomID(name)

    # -- end of the F2 bridge ------------------------------------------------------------

    async def post(self, channel_id: str, reply: Reply, *, thread_id: str = "") -> str:
        content = reply_content(reply)
        if thread_id:
            content = in_thread(content, thread_id, thread_id)
        return await self._send(RoomID(channel_id), content)

    async def send_direct(
        self, user_id: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        room = await self.direct_room(user_id)
        return str(room), await self._keyed_send(room, reply, key, retry)

    async def direct_room(self, user_id: str) -> RoomID:
        """The bot's DM room with `user_id`: the remembered one while both are in it, else a new one."""
        key = f"matrix.dm:{self._live().mxid}:{user_id}"
        async with self._lock:
            known = await asyncio.to_thread(self._store.get_value, key)
            if known and await self._usable(RoomID(known), UserID(user_id)):
                return RoomID(known)
            room = await self._live().create_room(
                preset=RoomCreatePreset.TRUSTED_PRIVATE,
                is_direct=True,
                invitees=[UserID(user_id)],
                initial_state=[_ENCRYPTION],
            )
            # Room keys must reach the invited person too, before they join: tell the state
            # cache the room is encrypted and load its full member list (invites included).
            state = self._live().state_store
            if state is not None:
                await state.set_encryption_info(
                    room, RoomEncryptionStateEventContent(algorithm=EncryptionAlgorithm.MEGOLM_V1)
                )
            await self._live().get_members(room)
            await asyncio.to_thread(self._store.set_value, key, str(room))
            log.info("event=matrix_dm_created room_id=%s user_id=%s", room, user_id)
            return room

    async def _usable(self, room: RoomID, user_id: UserID) -> bool:
        state = self._live().state_store
        if state is None:
            return False
        # Unknown (None) is not a reason to make another room: only a known departure is.
        mine = await state.get_membership(room, self._live().mxid)
        theirs = await state.get_membership(room, user_id)
        return mine in (None, Membership.JOIN) and theirs in (
            None,
            Membership.JOIN,
            Membership.INVITE,
        )

    async def _send(self, room: RoomID, content: dict[str, Any]) -> str:
        event_id = await self._live().send_message_event(
            room,
            EventType.ROOM_MESSAGE,
            content,  # type: ignore[arg-type]  # mautrix serializes plain dicts as they are
        )
        return str(event_id)

    # -- invitations -----------------------------------------------------------------------
    # The private room's membership, the invite, the choices offered as the bot's own
    # reactions (Matrix has no buttons) and the edit of a notice to its final state.

    async def is_member(self, user_id: str) -> bool:
        """In the private room, or invited to it (an invite is the add, on Matrix)."""
        client = self._live()
        room = await self._private_room()
        try:
            member = await client.get_state_event(room, EventType.ROOM_MEMBER, user_id)
        except MNotFound:
            return False
        membership = getattr(member, "membership", None)
        return membership in (Membership.JOIN, Membership.INVITE)

    async def user_ids(self, usernames: list[str]) -> dict[str, str]:
        """On Matrix a referent's account is already their user id."""
        return {name: name for name in usernames if name.startswith("@") and ":" in name}

    async def add_member(self, user_id: str) -> None:
        """Invite into the private room; AddFailed with the fix when the bot may not.

        One request when all is well: at Tchap's pace (about one a second, the burst
        spent on the notices just before) each request is a second a referent waits.
        The power levels come from the synced room state; a refusal is looked into."""
        try:
            client = self._live()
            room = await self._private_room()
            levels = await self._power_levels(client, room)
            # The setup checks it too (Tchap's rule): a clear advice beats a bare 403.
            if levels is not None and levels.get_user_level(client.mxid) < levels.invite:
                raise AddFailed(cannot_invite(str(client.mxid), self.channel_name))
            await client.invite_user(room, UserID(user_id))
        except PlatformUnavailable:
            raise AddFailed(MATRIX_UNAVAILABLE) from None
        except MForbidden as error:
            # Already in the room (a retry after a crash, an earlier invite): done.
            if await self.is_member(user_id):
                return
            log.error("event=matrix_invite_refused room=%s error=%r", self.channel_name, str(error))
            raise AddFailed(cannot_invite(str(self._live().mxid), self.channel_name)) from None
        except (MatrixRequestError, MatrixConnectionError, OSError, TimeoutError) as error:
            log.error("event=matrix_invite_failed room=%s error=%r", self.channel_name, str(error))
            raise AddFailed(MATRIX_UNAVAILABLE) from None
        log.info("event=matrix_invited room=%s user_id=%s", self.channel_name, user_id)

    async def _private_room(self) -> RoomID:
        """The private room's id, its alias resolved once per process."""
        if self._private_id is None:
            self._private_id = await self._room(self.channel_name)
        return self._private_id

    @staticmethod
    async def _power_levels(client: Client, room: RoomID) -> PowerLevelStateEventContent | None:
        state = client.state_store
        cached = await state.get_power_levels(room) if state is not None else None
        if cached is not None:
            return cached
        levels = await client.get_state_event(room, EventType.ROOM_POWER_LEVELS)
        return levels if isinstance(levels, PowerLevelStateEventContent) else None

    async def offer_choices(self, channel_id: str, post_id: str, reply: Reply) -> None:
        """The reply's buttons as the bot's own reactions under the post, remembered so a
        person's reaction there comes back as the button's action (`choice`)."""
        keys = await asyncio.to_thread(notices.remember_choices, self._store, post_id, reply)
        if not keys:
            return
        client = self._live()
        for key in keys:
            try:
                await client.send_message_event(
                    RoomID(channel_id),
                    EventType.REACTION,
                    notices.reaction(post_id, key),  # type: ignore[arg-type]  # sent as is
                )
            except MatrixRequestError as error:
                # A retry after a crash finds its reaction already there: that is fine.
                if error.errcode != "M_DUPLICATE_ANNOTATION":
                    raise

    async def choice(self, post_id: str, key: str) -> tuple[str, str] | None:
        """(action, value) of the button a reaction `key` on `post_id` stands for."""
        return await asyncio.to_thread(notices.chosen, self._store, post_id, key)

    async def update_post(self, post_id: str, reply: Reply, *, channel_id: str = "") -> None:
        """Edit the post (`m.replace`) to the reply."""
        await self._send(RoomID(channel_id), notices.edit(post_id, reply))
