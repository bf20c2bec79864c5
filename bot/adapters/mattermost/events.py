"""Websocket events -> the core: DMs and mentions are answered, joiners welcomed.

Each post is claimed in the store before it is answered, so a replayed event, a
second replica or a restart never answers the same post twice; the claim is done once the
reply is on Mattermost. A process killed in between leaves it unfinished: after its lease
another one takes it over (`unfinished.py`) and first looks for the reply by its key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.adapters.mattermost.api import MattermostApi, MattermostApiError, MattermostUnavailable
from bot.adapters.mattermost.poster import MARKER_PROP
from bot.adapters.mattermost.render import SignedButtons, post_props
from bot.answers.conversation import Conversation
from bot.answers.welcome import WelcomeSettings, should_welcome
from bot.chat import Message, Reply, User, Visibility
from bot.clock import utc_now
from bot.greeter import Greeter
from bot.outbox.store import Effect, Job, OutboxStore
from bot.outbox.worker import OutboxWorker, Permanent
from bot.store import Store

log = logging.getLogger(__name__)

REPLY = "mattermost.reply"
PLATFORM = "mattermost"  # the name messages and effects carry (MattermostPlatform.name)


# What `_post_reply` returns for a reply the outbox will send once Mattermost is back.
QUEUED = "queued"
# How long a process holds a question it answers: longer than the slowest reply.
ANSWER_LEASE = timedelta(minutes=3)


@dataclass(frozen=True)
class BotIdentity:
    user_id: str
    username: str


class EventRouter:
    def __init__(
        self,
        api: MattermostApi,
        store: Store,
        conversation: Conversation,
        identity: BotIdentity,
        welcome: WelcomeSettings,
        greeter: Greeter,
        signer: SignedButtons | None = None,
        outbox: OutboxWorker | None = None,
        answer_lease: timedelta = ANSWER_LEASE,
    ) -> None:
        self._signer = signer
        self._lease = answer_lease
        self._api = api
        self._store = store
        self._conversation = conversation
        self._me = identity
        self._welcome = welcome
        self._greeter = greeter
        self._outbox = outbox or OutboxWorker(OutboxStore(store), "events")
        self._outbox.register(REPLY, self.send_reply)
        self._mention = re.compile(rf"(?<![\w.-])@{re.escape(identity.username)}\b", re.IGNORECASE)

    async def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "posted":
            await self._posted(event)
        elif kind == "user_added":
            await self._user_added(event)
        elif kind == "user_removed":
            await self._user_removed(event)
        elif kind == "user_updated":
            await self._user_updated(event)

    async def _posted(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        raw = data.get("post") or "{}"
        try:
            post = json.loads(raw)
        except ValueError:
            log.warning("event=posted_bad_payload")
            return
        except RecursionError:  # anyone can post props nested thousands of levels deep
            log.warning("event=post_skipped reason=nested_too_deeply post_id=%s", _post_id(raw))
            return
        if not isinstance(post, dict) or not post.get("id"):
            return
        try:
            text = self.addressed_text(post, data)
        except RecursionError:  # a prop nested too deeply to turn into text
            log.warning("event=post_skipped reason=nested_too_deeply post_id=%s", post["id"])
            return
        if text is None:
            return
        claim = await asyncio.to_thread(
            self._store.claim_answer,
            f"post:{post['id']}",
            self._outbox.owner,
            utc_now(),
            self._lease,
            str(post.get("channel_id") or ""),
        )
        if claim is None:
            log.info("event=post_already_answered post_id=%s", post["id"])
            return
        if claim.takeover:
            log.warning("event=answer_taken_over post_id=%s", post["id"])
        await self._answer(post, data, text, claim.takeover)
        await asyncio.to_thread(self._store.answer_done, claim)

    async def _answer(
        self, post: dict[str, Any], data: dict[str, Any], text: str, takeover: bool
    ) -> None:
        """Reply to a claimed post; after a takeover, a reply already there is not re-posted."""
        direct = data.get("channel_type") == "D"
        thread = (
            str(post.get("root_id") or "") if direct else str(post.get("root_id") or post["id"])
        )
        user = User(
            id=str(post.get("user_id")), username=str(data.get("sender_name", "")).lstrip("@")
        )
        message = Message(
            text=text,
            user=user,
            channel_id=str(post["channel_id"]),
            post_id=str(post["id"]),
            thread_id=thread,
            platform=PLATFORM,
        )
        reply = await self._conversation.answer_post(message)
        if reply is None:  # past the asker's share, and told so already
            log.info("event=not_answered reason=budget post_id=%s", post["id"])
            return
        if reply.visibility is Visibility.ASKER and not direct:
            await self._reply_privately(message, reply, check=takeover)
        else:
            await self._post_reply(message, reply, check=takeover)

    def addressed_text(self, post: dict[str, Any], data: dict[str, Any]) -> str | None:
        """The text to answer if this post is for the bot (a DM or a mention), else None."""
        if post.get("user_id") == self._me.user_id:
            return None
        props = post.get("props") or {}
        if str(props.get("from_bot", "")).lower() == "true" or props.get("from_webhook") == "true":
            return None
        if post.get("type"):  # system messages: joins, header changes...
            return None
        message = str(post.get("message") or "")
        channel_type = data.get("channel_type")
        if channel_type == "D":
            return self._mention.sub(" ", message).strip()
        mentions = _json_list(data.get("mentions"))
        if self._me.user_id in mentions or self._mention.search(message):
            return self._mention.sub(" ", message).strip()
        return None

    async def _post_reply(self, message: Message, reply: Reply, *, check: bool = False) -> str:
        """Post `reply` where `message` was written (unless, with `check`, it is there).

        Returns the new post's id, `QUEUED` when Mattermost is away and the outbox will
        send it, or "" when Mattermost refused it.
        """
        # One question may get two posts (a private reply by DM, a pointer in the thread):
        # the channel makes each key its own.
        key = f"reply:{message.post_id}:{message.channel_id}"
        # The key in the props lets a retry see whether this attempt's post was created.
        props = {**post_props(reply, self._signer), MARKER_PROP: key}
        if check and await self._already_sent(message.channel_id, key):
            return key
        try:
            post_id = await self._api.create_post(
                message.channel_id, reply.text, root_id=message.thread_id, props=props
            )
        except (MattermostUnavailable, MattermostApiError) as error:
            if isinstance(error, MattermostApiError) and not _transient(error):
                log.error("event=reply_failed post_id=%s error=%r", message.post_id, str(error))
                return ""
            # Mattermost going away mid-answer (its restart), or a proxy or its database
            # answering for it meanwhile (5xx, 429): the post is claimed, so nothing else
            # would answer it; the outbox retries until Mattermost takes it.
            log.warning("event=reply_deferred post_id=%s error=%r", message.post_id, str(error))
            payload = {
                "channel_id": message.channel_id,
                "text": reply.text,
                "root_id": message.thread_id,
                "props": props,
            }
            await self._outbox.queue(Effect(key, REPLY, payload))
            return QUEUED
        log.info("event=replied post_id=%s reply_id=%s", message.post_id, post_id)
        return post_id

    async def _reply_privately(self, message: Message, reply: Reply, check: bool = False) -> None:
        """An ASKER reply to a mention in a channel: by DM, and a pointer in the thread.

        The bot cannot post ephemerally (that needs a system-wide permission), so the
        reply goes where only the asker reads it; if the DM fails, nothing is posted in
        public instead.
        """
        try:
            dm = await self._api.direct_channel(self._me.user_id, message.user.id)
        except (MattermostApiError, MattermostUnavailable) as error:
            log.error("event=private_reply_failed post_id=%s error=%r", message.post_id, str(error))
            return
        if await self._post_reply(
            Message(message.text, message.user, dm, message.post_id, platform=PLATFORM),
            reply,
            check=check,
        ):
            await self._post_reply(message, self._conversation.private_pointer, check=check)

    async def send_reply(self, job: Job) -> None:
        """A deferred reply: sent unless the first attempt's post reached Mattermost."""
        channel_id = str(job.payload["channel_id"])
        if await self._already_sent(channel_id, job.key):
            return
        try:
            post_id = await self._api.create_post(
                channel_id,
                str(job.payload["text"]),
                root_id=str(job.payload.get("root_id") or ""),
                props=dict(job.payload.get("props") or {}),
            )
        except MattermostApiError as error:
            if not _transient(error):
                raise Permanent(str(error)) from None  # the channel or thread is gone
            raise
        log.info("event=replied key=%s reply_id=%s deferred=true", job.key, post_id)

    async def _user_added(self, event: dict[str, Any]) -> None:
        channel_id = str((event.get("broadcast") or {}).get("channel_id") or "")
        user_id = str((event.get("data") or {}).get("user_id") or "")
        if not should_welcome(self._welcome, channel_id, user_id, self._me.user_id):
            return
        await self._greeter.joined(PLATFORM, user_id)

    async def _user_removed(self, event: dict[str, Any]) -> None:
        """Someone left the public channel (or was removed from it)."""
        channel_id = str((event.get("broadcast") or {}).get("channel_id") or "")
        user_id = str((event.get("data") or {}).get("user_id") or "")
        if channel_id == self._welcome.channel_id and user_id != self._me.user_id:
            await self._greeter.left(PLATFORM, user_id)

    async def _user_updated(self, event: dict[str, Any]) -> None:
        """An account changed: a deactivated one has left the community."""
        user = (event.get("data") or {}).get("user")
        if isinstance(user, dict) and user.get("delete_at") and user.get("id"):
            await self._greeter.left(PLATFORM, str(user["id"]))

    async def _already_sent(self, channel_id: str, key: str) -> bool:
        """A reply (keyed `key`) sent by an attempt that died before marking it done."""
        since = int(time.time() * 1000) - 86_400_000
        for post in await self._api.posts_since(channel_id, since):
            if (post.get("props") or {}).get(MARKER_PROP) == key and not post.get("delete_at"):
                log.info("event=outbox_already_sent key=%s post_id=%s", key, post.get("id"))
                return True
        return False


def _json_list(raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [str(item) for item in raw]
    if isinstance(raw, str) and raw:
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            return []
        return [str(item) for item in value] if isinstance(value, list) else []
    return []


def _post_id(raw: Any) -> str:
    """The id of a post that could not be parsed, when the server put it first as it does."""
    found = _LEADING_ID.match(raw) if isinstance(raw, str) else None
    return found.group(1) if found else "-"


_LEADING_ID = re.compile(r'\{\s*"id"\s*:\s*"([A-Za-z0-9]{1,64})"')


def _transient(error: MattermostApiError) -> bool:
    """Whether the same post may well be taken a moment later.

    Mattermost itself refuses connections while it restarts (`MattermostUnavailable`),
    but a reverse proxy in front of it answers 502/503/504 meanwhile, and a database
    that is away gives a 500. A 4xx other than 429 says the request itself is wrong (a
    deleted channel, a lost permission): final. An answer we could not read (status 0)
    may hide a created post, which the retry looks for before sending: not final."""
    return not 400 <= error.status < 500 or error.status == 429
