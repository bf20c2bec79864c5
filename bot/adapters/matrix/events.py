"""Matrix events -> the core: questions answered, invitations accepted or refused.

Each question is claimed in the store before it is answered, so a replayed sync
(a restart, a homeserver restart, a second replica) never answers it twice; the claim is
done once the reply is sent. One left by a process that died in between is taken over after
its lease (`unfinished.py`), and its reply looked for by its key before it is sent.
Encrypted events are decrypted here rather than by mautrix's dispatcher, so a
message whose room key arrives a moment later waits for it instead of being dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

from mautrix.client import Client, SyncStream
from mautrix.errors import DecryptedPayloadError, DecryptionError, MatrixError, SessionNotFound
from mautrix.types import (
    BaseMessageEventContent,
    EncryptedEvent,
    EncryptedMegolmEventContent,
    Event,
    EventType,
    Membership,
    MemberStateEventContent,
    MessageEvent,
    RoomID,
    SerializerError,
    StateEvent,
)

from bot.adapters.matrix.addressing import Addressed, addressed, server_of
from bot.adapters.matrix.decisions import MatrixDecisions
from bot.adapters.matrix.directs import is_dm_with
from bot.adapters.matrix.limiter import LANE
from bot.adapters.matrix.newcomers import is_leaver, is_newcomer
from bot.adapters.matrix.platform import MatrixPlatform
from bot.answers.conversation import Conversation
from bot.chat import Message, Reply, User, Visibility
from bot.clock import utc_now
from bot.greeter import Greeter
from bot.store import Store

log = logging.getLogger(__name__)

# How long a message may wait for its room key (sent to the bot's device separately).
ROOM_KEY_WAIT_S = 30.0
# How long a process holds a question it answers: beyond a send's retries (about 2 min).
ANSWER_LEASE = timedelta(minutes=3)


class MatrixEventRouter:
    def __init__(
        self,
        client: Client,
        store: Store,
        conversation: Conversation,
        platform: MatrixPlatform,
        *,
        prefix: str,
        allowed_servers: frozenset[str],
        shared_rooms: frozenset[str] = frozenset(),
        public_room: str = "",
        greeter: Greeter | None = None,
        owner: str = "matrix",
        answer_lease: timedelta = ANSWER_LEASE,
    ) -> None:
        self._owner = owner  # this process, in the claims of the questions it answers
        self._lease = answer_lease
        self._client = client
        self._store = store
        self._conversation = conversation
        self._platform = platform
        self._public_room = public_room  # its newcomers are welcomed (by the greeter)
        self._greeter = greeter
        self._prefix = prefix
        self._allowed = allowed_servers
        self._shared_rooms = shared_rooms  # configured rooms: never taken for a DM
        self.bot_names: tuple[str, ...] = ()
        # False during the very first sync: history is not a question for a bot just born.
        self.live = True
        self.answered = 0
        self.undecryptable = 0
        self._pending: set[asyncio.Task[None]] = set()
        self.just_joined: set[str] = set()  # their first sync's cut history is not a gap
        # Reactions that decide invitations (decisions.py); None: reactions are ignored.
        self.decisions: MatrixDecisions | None = None

    @property
    def me(self) -> str:
        return str(self._client.mxid)

    def attach(self) -> None:
        """Register on the client; handlers finish before the sync token moves on."""
        self._client.add_event_handler(EventType.ROOM_MESSAGE, self.on_message, wait_sync=True)
        self._client.add_event_handler(EventType.ROOM_ENCRYPTED, self.on_encrypted, wait_sync=True)
        self._client.add_event_handler(EventType.ROOM_MEMBER, self.on_member, wait_sync=True)
        self._client.add_event_handler(EventType.REACTION, self.on_reaction, wait_sync=True)

    async def drain(self) -> None:
        """Let messages still waiting for their room key finish (bounded by the caller)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    # -- messages -----------------------------------------------------------------

    async def on_message(self, evt: MessageEvent) -> None:
        if not self.live:
            return
        if not isinstance(evt.content, BaseMessageEventContent):  # e.g. "msgtype": ["m.text"]
            self._unsupported(evt, "not a message content mautrix can read")
            return
        LANE.set(str(evt.sender))  # what answering costs takes its turn as this person's
        content = evt.content.serialize()
        direct = await self._is_direct(evt.room_id)
        question = addressed(
            content,
            event_id=str(evt.event_id),
            sender=str(evt.sender),
            bot_user_id=self.me,
            direct=direct,
            prefix=self._prefix,
            bot_names=self.bot_names,
        )
        if question is None:
            return
        claim = await asyncio.to_thread(
            self._store.claim_answer,
            f"matrix:{evt.event_id}",
            self._owner,
            utc_now(),
            self._lease,
            str(evt.room_id),
        )
        if claim is None:
            log.info("event=matrix_already_answered event_id=%s", evt.event_id)
            return
        if claim.takeover:
            log.warning("event=matrix_answer_taken_over event_id=%s", evt.event_id)
        if await self._answer(evt, question, direct, claim.takeover):
            await asyncio.to_thread(self._store.answer_done, claim)
        else:  # the homeserver away beyond the retries: another look after the lease
            log.warning("event=matrix_answer_left event_id=%s", evt.event_id)

    async def _answer(
        self, evt: MessageEvent, question: Addressed, direct: bool, takeover: bool = False
    ) -> bool:
        """Reply to a claimed question; False if the reply could not be sent."""
        user = User(id=str(evt.sender), username=str(evt.sender), full_name=await self._name(evt))
        message = Message(
            text=question.text,
            user=user,
            channel_id=str(evt.room_id),
            post_id=str(evt.event_id),
            thread_id=question.thread_root,
            platform="matrix",
        )
        reply = await self._conversation.answer_post(message)
        if reply is None:  # past the asker's share, and told so already
            log.info("event=matrix_not_answered reason=budget event_id=%s", evt.event_id)
            return True
        # For the asker only: kept in the room only if it is their DM with the bot, not
        # merely a room of two (see directs.is_dm_with); elsewhere by DM, with a pointer.
        if reply.visibility is Visibility.ASKER and not (
            direct and await is_dm_with(self._client, self._store, evt.room_id, str(evt.sender))
        ):
            return await self._reply_privately(message, reply, takeover)
        if not await self._post(message, reply, takeover):
            return False
        self.answered += 1
        return True

    async def _post(self, message: Message, reply: Reply, retry: bool = False) -> str:
        """`reply` where `message` was asked (in its thread, if any); "" if it failed.

        Keyed by the question and the room, so one question's DM and its public pointer
        are two posts, and a retried send is the same event for the homeserver; a `retry`
        (a takeover) first looks for that event in the room.
        """
        key = f"reply:{message.post_id}:{message.channel_id}"
        try:
            reply_id = await self._platform.post(
                message.channel_id,
                reply,
                thread_id=message.thread_id,
                reply_to=message.post_id,
                key=key,
                retry=retry,
            )
        except (MatrixError, OSError, TimeoutError) as error:
            log.error("event=matrix_reply_failed event_id=%s error=%r", message.post_id, str(error))
            return ""
        log.info("event=matrix_replied event_id=%s reply_id=%s", message.post_id, reply_id)
        return reply_id

    async def _reply_privately(self, message: Message, reply: Reply, retry: bool = False) -> bool:
        """An ASKER reply to a question in a room: by DM, and the core's pointer in the thread.

        Matrix has no ephemeral messages. If the DM fails, nothing is posted in public instead
        (and False is returned).
        """
        try:
            room, reply_id = await self._platform.send_direct(
                message.user.id, reply, key=f"reply:{message.post_id}:dm", retry=retry
            )
        except (MatrixError, OSError, TimeoutError) as error:
            log.error(
                "event=matrix_private_reply_failed event_id=%s error=%r",
                message.post_id,
                str(error),
            )
            return False
        self.answered += 1
        log.info(
            "event=matrix_replied_privately event_id=%s room_id=%s reply_id=%s",
            message.post_id,
            room,
            reply_id,
        )
        await self._post(message, self._conversation.private_pointer, retry)
        return True

    async def _name(self, evt: MessageEvent) -> str:
        state = self._client.state_store
        member = await state.get_member(evt.room_id, evt.sender) if state else None
        return str(member.displayname or "") if member else ""

    async def _is_direct(self, room_id: RoomID) -> bool:
        if str(room_id) in self._shared_rooms:
            return False
        state = self._client.state_store
        if state is None:
            return False
        if not await state.has_full_member_list(room_id):
            await self._client.get_joined_members(room_id)  # fills the state store
        return len(await state.get_members(room_id)) <= 2

    # -- encrypted messages -------------------------------------------------------

    async def on_encrypted(self, evt: EncryptedEvent) -> None:
        crypto = self._client.crypto
        if crypto is None or not self.live:
            return
        try:
            decrypted = await crypto.decrypt_megolm_event(evt)
        except SessionNotFound:
            # The key travels as a to-device message, sometimes a sync later: wait for it
            # off the sync loop, or the loop would wait for itself.
            task = asyncio.create_task(self._decrypt_later(evt))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            return
        except (DecryptedPayloadError, SerializerError) as error:
            self._unsupported(evt, error)  # decrypted: its key did arrive
            return
        except DecryptionError as error:
            self._undecryptable(evt, error)
            return
        await self._decrypted(decrypted)

    async def _decrypt_later(self, evt: EncryptedEvent) -> None:
        crypto = self._client.crypto
        assert crypto is not None
        content = evt.content
        assert isinstance(content, EncryptedMegolmEventContent)
        if not await crypto.wait_for_session(evt.room_id, content.session_id, ROOM_KEY_WAIT_S):
            self._undecryptable(evt, "room key not received")
            return
        try:
            decrypted = await crypto.decrypt_megolm_event(evt)
        except (DecryptedPayloadError, SerializerError) as error:
            self._unsupported(evt, error)  # decrypted: its key did arrive
            return
        except DecryptionError as error:
            self._undecryptable(evt, error)
            return
        await self._decrypted(decrypted)

    async def _decrypted(self, evt: Event) -> None:
        if isinstance(evt, MessageEvent) and evt.type == EventType.ROOM_MESSAGE:
            if not isinstance(evt.content, BaseMessageEventContent):
                # mautrix's `Obj` for a shape it cannot read: calling its methods raises.
                self._unsupported(evt, "not a message content mautrix can read")
                return
            try:
                evt.content.trim_reply_fallback()
            except (TypeError, AttributeError, ValueError) as error:  # a body that is no text
                self._unsupported(evt, error)
                return
            await self.on_message(evt)
        elif evt.type == EventType.REACTION:
            await self.on_reaction(evt)

    def _unsupported(self, evt: object, error: object) -> None:
        """A message whose content the bot cannot read (a sender's bug or a probe), one line.

        Not `undecryptable`: that count (in /healthz) is for room keys that never came."""
        log.warning(
            "event=matrix_unsupported_content event_id=%s room_id=%s sender=%s error=%r",
            getattr(evt, "event_id", ""),
            getattr(evt, "room_id", ""),
            getattr(evt, "sender", ""),
            str(error)[:200],
        )

    def _undecryptable(self, evt: EncryptedEvent, error: object) -> None:
        self.undecryptable += 1
        log.warning(
            "event=matrix_undecryptable event_id=%s room_id=%s sender=%s error=%r",
            evt.event_id,
            evt.room_id,
            evt.sender,
            str(error),
        )

    # -- invitations ----------------------------------------------------------------

    async def on_member(self, evt: StateEvent) -> None:
        source: Any = getattr(evt, "source", SyncStream(0))
        if source & SyncStream.JOINED_ROOM and source & SyncStream.TIMELINE:
            await self._newcomer(evt)
            return
        if not source & SyncStream.INVITED_ROOM:
            return
        content = evt.content
        if not isinstance(content, MemberStateEventContent) or evt.state_key != self.me:
            return
        if content.membership != Membership.INVITE:
            return
        server = server_of(str(evt.sender))
        try:
            if server not in self._allowed:
                log.warning(
                    "event=matrix_invite_refused room_id=%s sender=%s server=%s hint='add it to matrix.allowed_homeservers'",
                    evt.room_id,
                    evt.sender,
                    server,
                )
                await self._client.leave_room(evt.room_id)
                return
            await self._client.join_room_by_id(evt.room_id)
            self.just_joined.add(str(evt.room_id))
        except MatrixError as error:
            log.error("event=matrix_join_failed room_id=%s error=%r", evt.room_id, str(error))
            return
        log.info("event=matrix_joined room_id=%s inviter=%s", evt.room_id, evt.sender)

    # -- reactions: decisions on invitations --------------------------------------------------

    async def on_reaction(self, evt: Event) -> None:
        """A reaction (plain, or decrypted above) -> decisions.py, once the bot is live."""
        if self.live and self.decisions is not None:
            sender, event_id = str(getattr(evt, "sender", "")), str(getattr(evt, "event_id", ""))
            room = str(getattr(evt, "room_id", ""))
            await self.decisions.on_reaction(sender, event_id, room, getattr(evt, "content", None))

    # -- the welcome ----------------------------------------------------------------

    async def _newcomer(self, evt: StateEvent) -> None:
        """Someone joined the public room just now: the greeter DMs them, once ever; or left
        it: the greeter tells who follows departures. Not during a first sync: its history
        holds no newcomer."""
        if self._greeter is None or not self.live:
            return
        if is_leaver(evt, self._public_room, self.me):
            await self._greeter.left("matrix", str(evt.state_key))
            return
        if not is_newcomer(evt, self._public_room, self.me, time.time() * 1000):
            return
        queued = await self._greeter.joined("matrix", str(evt.state_key))
        log.info("event=matrix_newcomer user_id=%s queued=%s", evt.state_key, queued)
