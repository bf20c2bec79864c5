"""Newcomers of the community's public channel get the welcome message by DM, once; other
features hear of who arrives and who leaves (`tell`).

Whichever platform they joined on: the adapter says who joined its public channel, the
greeter queues one outbox row per person (its key is the record that they were welcomed)
and sends it through that platform, retried until done, never twice.
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot.answers.welcome import WELCOME, welcome_key, welcome_reply
from bot.chat import NoSuchUser, Platforms
from bot.content.loader import ContentSource
from bot.outbox.store import Effect, Job
from bot.outbox.worker import OutboxWorker, Permanent

log = logging.getLogger(__name__)

# Rows queued before the platform was recorded in them came from Mattermost.
LEGACY_PLATFORM = "mattermost"


class Members(Protocol):
    """What another feature does when someone arrives in or leaves the community (the
    subscriptions: a newcomer's follow-up, a leaver's reminders stopped)."""

    async def joined(self, platform: str, user_id: str) -> None: ...

    async def left(self, platform: str, user_id: str) -> None: ...


class Greeter:
    def __init__(self, content: ContentSource, platforms: Platforms, outbox: OutboxWorker) -> None:
        self._content = content
        self._platforms = platforms
        self._outbox = outbox
        self._members: list[Members] = []
        outbox.register(WELCOME, self.send)

    def tell(self, members: Members) -> None:
        """Tell `members` of arrivals (welcomed now) and departures (at start-up, before
        anything runs)."""
        self._members.append(members)

    async def left(self, platform: str, user_id: str) -> None:
        """Someone left the public channel or room on `platform`, or their account closed."""
        if not user_id:
            return
        log.info("event=member_left platform=%s user_id=%s", platform, user_id)
        for members in self._members:
            await members.left(platform, user_id)

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
        for members in self._members:
            await members.joined(platform, user_id)
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
