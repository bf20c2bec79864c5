"""The commands of the subscriptions: « club prevenez-moi », « club stop », the same for the
certification, and « mes-abonnements ». Every reply is for the asker only.

A subscription belongs to a person on one platform: subscribed on Tchap, told on Tchap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.chat import Message, Reply, Visibility
from bot.clock import Clock, utc_now
from bot.subscriptions import texts
from bot.subscriptions.records import SubscriptionRecords
from bot.subscriptions.schema import CERTIFICATION, CHOSEN_KINDS, CLUB, NEWCOMER

log = logging.getLogger(__name__)

# A message without its platform (tests, older callers) came from Mattermost.
LEGACY_PLATFORM = "mattermost"

Handler = Callable[[Message, str], Awaitable[Reply]]


def _where(message: Message) -> tuple[str, str]:
    return message.platform or LEGACY_PLATFORM, message.user.id


class SubscriptionService:
    def __init__(self, records: SubscriptionRecords, clock: Clock = utc_now) -> None:
        self.records = records
        self.clock = clock

    def subscribe(self, kind: str) -> Handler:
        """The handler of « <kind> prevenez-moi »."""

        async def handle(message: Message, _rest: str) -> Reply:
            platform, user_id = _where(message)
            added = await asyncio.to_thread(
                self.records.subscribe, platform, user_id, kind, self.clock()
            )
            if added:
                log.info("event=subscribed kind=%s platform=%s user_id=%s", kind, platform, user_id)
            return _private(texts.subscribed(kind, already=not added))

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
