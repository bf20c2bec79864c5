"""Matrix (Tchap) behind the core's one port (`bot.chat.ChatPlatform`).

It exists from start-up (the core's services and the greeter are built with it) and is
`bind`-ed to the client once the homeserver answers; before that every call raises
PlatformUnavailable, which the outbox and the reminders retry.

A post that must happen once carries its key twice: as the transaction id (a retry of
the same request, even from another replica on the same device, is the same event for
the homeserver) and in its content under `KEY_FIELD`, so an attempt that died before
recording its event id is found again in the room's recent history (`history.py`). A
person's DM room is made once and remembered (`directs.py`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from typing import Any

from mautrix.client import Client
from mautrix.errors import MatrixConnectionError, MatrixRequestError, MForbidden, MNotFound
from mautrix.types import (
    EventType,
    Membership,
    PowerLevelStateEventContent,
    RoomAlias,
    RoomID,
    UserID,
)

from bot.adapters.matrix import notices
from bot.adapters.matrix.directs import DirectRooms
from bot.adapters.matrix.history import KEY_FIELD, find_keyed
from bot.adapters.matrix.render import in_thread, reply_content
from bot.chat import AddFailed, Dialect, NoSuchUser, PlatformUnavailable, Reply, User
from bot.invitations.texts import MATRIX_UNAVAILABLE, cannot_invite
from bot.store import Store

log = logging.getLogger(__name__)

# How far back a retried message looks for its own earlier copy (outbox leases are minutes).
RETRY_LOOKBACK = dt.timedelta(days=1)


def transaction_id(key: str) -> str:
    """The same key gives the same transaction id, so the homeserver posts it once."""
    return "intra-bot-" + hashlib.sha256(key.encode()).hexdigest()[:32]


class MatrixPlatform:
    name = "matrix"

    def __init__(
        self,
        store: Store,
        *,
        public_room: str = "",
        private_room: str = "",
        command: str = "!intra",
    ) -> None:
        self._store = store
        self.public_room = public_room
        # The private room invitations invite people into (id or alias, as configured).
        self.channel_name = private_room
        # `/intra` is a client command on Tchap: the bot's word is `command` (configured),
        # its rooms are named by their alias or id, a person by their Matrix id.
        self.dialect = Dialect(
            label="Tchap",
            command=command,
            public_channel=public_room,
            private_channel=private_room,
        )
        self._client: Client | None = None
        self._rooms: dict[str, RoomID] = {}
        self._directs = DirectRooms(store)
        self._private_id: RoomID | None = None  # invitations: its id, once resolved

    def bind(self, client: Client, rooms: dict[str, str] | None = None) -> None:
        """The homeserver answered: the client to use, and the configured rooms resolved."""
        self._client = client
        self._rooms.update({name: RoomID(room) for name, room in (rooms or {}).items()})

    def unbind(self) -> None:
        self._client = None

    @property
    def ready(self) -> bool:
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
        return await find_keyed(self._bound(), await self.room_id(channel_name), marker, since)

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
        retry: bool = False,
    ) -> str:
        """A reply where a question was asked (in its thread when `thread_id`)."""
        content = reply_content(reply)
        if thread_id:
            content = in_thread(content, thread_id, reply_to or thread_id)
        return await self._post_once(RoomID(channel_id), content, key, retry)

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
        """The bot's DM room with `user_id` (made once, then remembered)."""
        return await self._directs.room(self._bound(), user_id)

    async def _post_once(self, room: RoomID, content: dict[str, Any], key: str, retry: bool) -> str:
        """Send; a retried keyed post is first looked for (an attempt may have died after
        the homeserver took it and before its event id was recorded)."""
        if key and retry:
            since = dt.datetime.now(dt.UTC) - RETRY_LOOKBACK
            found = await find_keyed(self._bound(), room, key, since)
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

    # -- invitations -----------------------------------------------------------------------
    # The private room's membership, the invite, the choices offered as the bot's own
    # reactions (Matrix has no buttons) and the edit of a notice to its final state.

    async def is_member(self, user_id: str) -> bool:
        """In the private room, or invited to it (an invite is the add, on Matrix)."""
        client = self._bound()
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
            client = self._bound()
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
            raise AddFailed(cannot_invite(str(self._bound().mxid), self.channel_name)) from None
        except (MatrixRequestError, MatrixConnectionError, OSError, TimeoutError) as error:
            log.error("event=matrix_invite_failed room=%s error=%r", self.channel_name, str(error))
            raise AddFailed(MATRIX_UNAVAILABLE) from None
        log.info("event=matrix_invited room=%s user_id=%s", self.channel_name, user_id)

    async def _private_room(self) -> RoomID:
        """The private room's id, its alias resolved once per process."""
        if self._private_id is None:
            self._private_id = await self.room_id(self.channel_name)
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
        client = self._bound()
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
