"""The commands of the subscriptions: « club prevenez-moi », « club stop », the same for the
certification, and « mes-abonnements ». Every reply is for the asker only.

A subscription belongs to a person on one platform: subscribed on Tchap, told on Tchap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from bot.chat import Message, Reply, Visibility
from bot.clock import Clock, utc_now
from bot.config import DEFAULT_TIMEZONE
from bot.content.loader import ContentSource
from bot.subscriptions import texts
from bot.subscriptions.records import SubscriptionRecords
from bot.subscriptions.schema import CERTIFICATION, CHOSEN_KINDS, CLUB, NEWCOMER

log = logging.getLogger(__name__)

ZONE = ZoneInfo(DEFAULT_TIMEZONE)

# A message without its platform (tests, older callers) came from Mattermost.
LEGACY_PLATFORM = "mattermost"

Handler = Callable[[Message, str], Awaitable[Reply]]


def _where(message: Message) -> tuple[str, str]:
    return message.platform or LEGACY_PLATFORM, message.user.id


class SubscriptionService:
    def __init__(
        self,
        records: SubscriptionRecords,
        clock: Clock = utc_now,
        *,
        content: ContentSource | None = None,
    ) -> None:
        self.records = records
        self.clock = clock
        self.content = content  # the certification's open session, told at once

    def _open_session(self) -> str:
        if self.content is None:
            return ""
        session = self.content.current.certification.session
        if session is None or self.clock().astimezone(ZONE).date() > session.deadline:
            return ""
        return texts.open_session(session)

    def subscribe(self, kind: str) -> Handler:
        """The handler of « <kind> prevenez-moi »."""

        async def handle(message: Message, _rest: str) -> Reply:
            platform, user_id = _where(message)
            added = await asyncio.to_thread(
                self.records.subscribe, platform, user_id, kind, self.clock()
            )
            if added:
                log.info("event=subscribed kind=%s platform=%s user_id=%s", kind, platform, user_id)
            extra = self._open_session() if kind == CERTIFICATION else ""
            return _private(texts.subscribed(kind, already=not added, extra=extra))

        return handle

    def stop(self, kind: str) -> Handler:
        """The handler of « <kind> stop »."""

        async def handle(message: Message, _rest: str) -> Reply:
            platform, user_id = _where(message)
            dropped = await asyncio.to_thread(self.records.unsubscribe, platform, user_id, [kind])
            if dropped:
                log.info(
                    "event=unsubscribed kind=%s platform=%s user_id=%s reason=asked",
                    kind,
                    platform,
                    user_id,
                )
            return _private(texts.stopped(kind, was_active=bool(dropped)))

        return handle

    async def left(self, platform: str, user_id: str) -> None:
        """The person left the community (their platform no longer knows them, or they left
        its public channel or room): every subscription of theirs there ends, logged."""
        dropped = await asyncio.to_thread(
            self.records.unsubscribe, platform, user_id, [CLUB, CERTIFICATION, NEWCOMER]
        )
        if dropped:
            log.info(
                "event=unsubscribed kinds=%s platform=%s user_id=%s reason=left",
                ",".join(dropped),
                platform,
                user_id,
            )

    async def mine(self, message: Message, _rest: str) -> Reply:
        """« mes-abonnements »: the asker's subscriptions on this platform."""
        platform, user_id = _where(message)
        found = await asyncio.to_thread(self.records.of_person, platform, user_id)
        kinds = [kind for kind in CHOSEN_KINDS if any(s.kind == kind for s in found)]
        return _private(texts.listing(kinds))


def _private(text: str) -> Reply:
    return Reply(text, visibility=Visibility.ASKER)
