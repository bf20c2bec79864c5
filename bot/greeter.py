"""Newcomers of the community's public channel get the welcome message by DM, once.

Whichever platform they joined on: the adapter says who joined its public channel, the
greeter queues one outbox row per person (its key is the record that they were welcomed)
and sends it through that platform, retried until done, never twice.
"""

from __future__ import annotations

import logging

from bot.answers.welcome import WELCOME, welcome_key, welcome_reply
from bot.chat import NoSuchUser, Platforms
from bot.content.loader import ContentSource
from bot.outbox.store import Effect, Job
from bot.outbox.worker import OutboxWorker, Permanent

log = logging.getLogger(__name__)

# Rows queued before the platform was recorded in them came from Mattermost.
LEGACY_PLATFORM = "mattermost"


class Greeter:
    def __init__(self, content: ContentSource, platforms: Platforms, outbox: OutboxWorker) -> None:
        self._content = content
        self._platforms = platforms
        self._outbox = outbox
        outbox.register(WELCOME, self.send)

    async def joined(self, platform: str, user_id: str) -> bool:
        """Someone (not the bot) joined the public channel on `platform`; True if queued now."""
        if not user_id or not self._content.current.messages.welcome.enabled:
            return False
        key = welcome_key(user_id)
        if not await self._outbox.queue(
            Effect(key, WELCOME, {"user_id": user_id, "platform": platform})
        ):
            return False
        await self._outbox.deliver([key])
        return True

    async def send(self, job: Job) -> None:
        user_id = str(job.payload["user_id"])
        platform = self._platforms.get(str(job.payload.get("platform") or LEGACY_PLATFORM))
        try:
            person = await platform.profile(user_id)
        except NoSuchUser:
            raise Permanent(f"user {user_id} not found on {platform.name}") from None
        if person.is_bot:
            return
        reply = welcome_reply(self._content.current, platform.dialect)
        try:
            await platform.send_direct(user_id, reply, key=job.key, retry=job.attempts > 1)
        except Exception as error:
            log.error(
                "event=welcome_failed platform=%s user_id=%s error=%r",
                platform.name,
                user_id,
                str(error),
            )
            raise
        log.info("event=welcomed platform=%s user_id=%s", platform.name, user_id)
