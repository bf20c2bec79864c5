"""The certification's personal messages, queued once per subscriber and message, sent via
the outbox (see certification_notices.py for what is due when).

`sweep` (the subscriptions' periodic job) queues, outside quiet hours unless the deadline
is the next day; `send` reads the content and the subscription again: nothing for a
person who stopped, nor for a session withdrawn or closed meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from zoneinfo import ZoneInfo

from bot.config import DEFAULT_TIMEZONE
from bot.content.certification import CertificationSession
from bot.content.loader import ContentSource
from bot.outbox.store import Effect, Job
from bot.subscriptions import certification_notices as notices
from bot.subscriptions import delivery
from bot.subscriptions.quiet import QuietHours, release_time
from bot.subscriptions.schema import CERTIFICATION

log = logging.getLogger(__name__)

ZONE = ZoneInfo(DEFAULT_TIMEZONE)
# The named value recording when a session was first seen published (not about a person).
SEEN_PREFIX = "subscriptions.certification_seen:"
# How long after a session is first seen its announcement still goes out, at most.
ANNOUNCE_WINDOW = dt.timedelta(days=7)


class CertificationNotices:
    def __init__(
        self,
        courier: delivery.Courier,
        content: ContentSource,
        quiet: QuietHours,
        reminder_days: int,
        announce_window: dt.timedelta,
    ) -> None:
        self.courier = courier
        self.content = content
        self.store = courier.records.store
        self.announce_window = announce_window
        self.quiet = quiet
        self.reminder_days = reminder_days
        courier.outbox.register(notices.CERTIFICATION_NOTICE, self.send)

    @property
    def session(self) -> CertificationSession | None:
        return self.content.current.certification.session

    async def sweep(self) -> int:
        """Queue what is due now; the number newly queued."""
        session, now = self.session, self.courier.clock()
        if session is None:
            return 0
        message = notices.due_message(session, now, self.reminder_days, ZONE)
        deadline = notices.deadline_end(session, ZONE) - dt.timedelta(seconds=1)
        if message is None or release_time(now, self.quiet, deadline) != now:
            return 0
        if message == notices.ANNOUNCE and not await self._announcing(session, now):
            return 0
        subscribers = await asyncio.to_thread(self.courier.records.of_kind, CERTIFICATION)
        payload = {"session": session.key, "message": message}
        effects = [
            Effect(
                notices.notice_key(sub.platform, sub.user_id, session.key, message),
                notices.CERTIFICATION_NOTICE,
                {"platform": sub.platform, "user_id": sub.user_id, **payload},
            )
            for sub in subscribers
        ]
        added = await self.courier.queue(effects, now)
        if added:
            log.info(
                "event=certification_notices_queued count=%d session=%s message=%s",
                added,
                session.key,
                message,
            )
        return added

    async def _announcing(self, session: CertificationSession, now: dt.datetime) -> bool:
        """Whether the session's announcement still goes out: within `announce_window` of
        the first sweep that saw it published. The outbox's rows, which say who was told,
        are deleted after the outbox's retention: past it, a sweep would tell them again.
        Who subscribes later learns of the session in the reply to « prevenez-moi »."""
        name = f"{SEEN_PREFIX}{session.key}"
        seen = await asyncio.to_thread(self.store.get_value, name)
        if seen is None:
            await asyncio.to_thread(self.store.set_value, name, now.isoformat(), now=now)
            return True
        try:
            first = dt.datetime.fromisoformat(seen)
        except ValueError:
            return False
        return now - first < self.announce_window

    async def send(self, job: Job) -> None:
        platform_name, user_id = delivery.recipient(job)
        active = await asyncio.to_thread(
            self.courier.records.get, platform_name, user_id, CERTIFICATION
        )
        session, now = self.session, self.courier.clock()
        if active is None:
            log.info("event=certification_notice_dropped key=%s reason=unsubscribed", job.key)
            return
        if session is None or session.key != job.payload["session"]:
            log.info("event=certification_notice_dropped key=%s reason=withdrawn", job.key)
            return
        if now >= notices.deadline_end(session, ZONE):
            log.info("event=certification_notice_dropped key=%s reason=closed", job.key)
            return
        text = notices.notice_text(
            session, str(job.payload["message"]), now.astimezone(ZONE).date()
        )
        await self.courier.send(job, text)
        log.info(
            "event=certification_notice_sent key=%s platform=%s user_id=%s",
            job.key,
            platform_name,
            user_id,
        )
