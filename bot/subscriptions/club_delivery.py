"""The club's personal notices: queued once per subscriber and occurrence, sent via the outbox.

`sweep` (a periodic job, on every replica) finds the occurrences whose notice is due and
queues one outbox row per club subscriber, keyed by person, platform and occurrence: the
key is the record that it was queued, so no restart or replica queues it twice. `send`
(the outbox's handler) reads the club and the subscription again when it sends: a person
who stopped meanwhile gets nothing, a moved club is told at its new date, a cancelled or
past one is not told at all. The DM links to the person's calendar file for that club
(`calendar_file`), which always says the current state: the event, or its cancellation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from bot.club.agenda import Occurrence, rule_date
from bot.club.service import LOOKBACK, ClubService
from bot.outbox.store import Effect, Job
from bot.subscriptions import calendar, club_notices, delivery
from bot.subscriptions.quiet import QuietHours, release_time
from bot.subscriptions.schema import CLUB
from bot.subscriptions.told import Told, ToldRecords

log = logging.getLogger(__name__)

CALENDAR_PATH = "/abonnements"


@dataclass(frozen=True)
class ClubNoticeSettings:
    timing: club_notices.NoticeTiming
    grace: dt.timedelta
    quiet: QuietHours
    public_url: str  # where people reach the HTTP listener, for the calendar links


class ClubNotices:
    def __init__(
        self,
        courier: delivery.Courier,
        club: ClubService,
        settings: ClubNoticeSettings,
    ) -> None:
        self.courier = courier
        self.club = club
        self.settings = settings
        self.told = ToldRecords(courier.records.store)
        outbox = courier.outbox
        outbox.register(club_notices.CLUB_NOTICE, self.send)
        outbox.register(club_notices.CLUB_CHANGE, self.send_change)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.club.club.schedule.timezone)

    def due(self, now: dt.datetime) -> list[Occurrence]:
        """The occurrences whose notice may go now (quiet hours applied)."""
        settings = self.settings
        found = []
        for occurrence in self.club.occurrences(now):
            planned = club_notices.notice_time(occurrence, settings.timing, self.zone)
            release = release_time(planned, settings.quiet, occurrence.start)
            if release <= now < occurrence.start and now - release <= settings.grace:
                found.append(occurrence)
        return found

    async def sweep(self) -> int:
        """Queue the notices due now, and the changes to tell; the number newly queued."""
        now = self.courier.clock()
        return await self._sweep_notices(now) + await self._sweep_changes(now)

    async def _sweep_notices(self, now: dt.datetime) -> int:
        due = await asyncio.to_thread(self.due, now)
        if not due:
            return 0
        subscribers = await asyncio.to_thread(self.courier.records.of_kind, CLUB)
        effects = [
            Effect(
                club_notices.notice_key(sub.platform, sub.user_id, occurrence.key),
                club_notices.CLUB_NOTICE,
                {"platform": sub.platform, "user_id": sub.user_id, "occurrence": occurrence.key},
            )
            for occurrence in due
            for sub in subscribers
        ]
        added = await self.courier.queue(effects, now)
        if added:
            log.info(
                "event=club_notices_queued count=%d occurrences=%s",
                added,
                ",".join(o.key for o in due),
            )
        return added

    def changes(self, now: dt.datetime) -> list[Effect]:
        """A change message for each subscriber told of an occurrence since moved (not yet
        started) or cancelled; the rows of past occurrences are deleted on the way."""
        current = {occurrence.key: occurrence for occurrence in self.club.occurrences(now)}
        keys = self.told.occurrence_keys()
        oldest = (now - LOOKBACK).astimezone(self.zone).date()
        past = [key for key in keys if (_key_day(key) or oldest) < oldest]
        if past:
            self.told.delete_occurrences(past)
        effects = []
        for told in self.told.of_occurrences([key for key in keys if key not in past]):
            occurrence = current.get(told.occurrence)
            if told.start is None or _unchanged(told, occurrence, now):
                continue
            effects.append(
                Effect(
                    club_notices.change_key(
                        told.platform, told.user_id, told.occurrence, told.start, told.told_at
                    ),
                    club_notices.CLUB_CHANGE,
                    {
                        "platform": told.platform,
                        "user_id": told.user_id,
                        "occurrence": told.occurrence,
                    },
                )
            )
        return effects

    async def _sweep_changes(self, now: dt.datetime) -> int:
        effects = await asyncio.to_thread(self.changes, now)
        added = await self.courier.queue(effects, now)
        if added:
            log.info("event=club_changes_queued count=%d", added)
        return added

    async def send_change(self, job: Job) -> None:
        """Tell a subscriber their club moved or was cancelled since they were told."""
        platform_name, user_id = delivery.recipient(job)
        key = str(job.payload["occurrence"])
        subscription = await asyncio.to_thread(
            self.courier.records.get, platform_name, user_id, CLUB
        )
        told = await asyncio.to_thread(self.told.get, platform_name, user_id, key)
        now = self.courier.clock()
        occurrence = self._find(key, now)
        if subscription is None or told is None or told.start is None:
            log.info("event=club_change_dropped key=%s reason=unsubscribed_or_told", job.key)
            return
        if _unchanged(told, occurrence, now):
            log.info("event=club_change_dropped key=%s reason=unchanged_or_started", job.key)
            return
        url = self.calendar_url(subscription.token, key)
        club = self.club.club
        text = (
            club_notices.moved_text(occurrence, told.start, club, url)
            if occurrence is not None
            else club_notices.cancelled_text(told.start, club, url)
        )
        await self.courier.send(job, text)
        start = occurrence.start if occurrence is not None else None
        await asyncio.to_thread(self.told.record, platform_name, user_id, key, start, now)
        log.info(
            "event=club_change_sent key=%s platform=%s user_id=%s change=%s",
            job.key,
            platform_name,
            user_id,
            "moved" if occurrence is not None else "cancelled",
        )

    async def send(self, job: Job) -> None:
        platform_name, user_id = delivery.recipient(job)
        key = str(job.payload["occurrence"])
        subscription = await asyncio.to_thread(
            self.courier.records.get, platform_name, user_id, CLUB
        )
        if subscription is None:
            log.info("event=club_notice_dropped key=%s reason=unsubscribed", job.key)
            return
        now = self.courier.clock()
        occurrence = self._find(key, now)
        if occurrence is None or occurrence.start <= now:
            log.info("event=club_notice_dropped key=%s reason=cancelled_or_past", job.key)
            return
        today = now.astimezone(self.zone).date()
        text = club_notices.notice_text(
            occurrence, self.club.club, self.calendar_url(subscription.token, key), today
        )
        await self.courier.send(job, text)
        await asyncio.to_thread(
            self.told.record, platform_name, user_id, key, occurrence.start, self.courier.clock()
        )
        log.info(
            "event=club_notice_sent key=%s platform=%s user_id=%s occurrence=%s",
            job.key,
            platform_name,
            user_id,
            key,
        )

    def _find(self, key: str, now: dt.datetime) -> Occurrence | None:
        return next((o for o in self.club.occurrences(now) if o.key == key), None)

    def calendar_url(self, token: str, occurrence_key: str) -> str:
        base = self.settings.public_url.rstrip("/")
        return f"{base}{CALENDAR_PATH}/{token}/club-{quote(occurrence_key, safe='')}.ics"

    def calendar_file(self, token: str, name: str) -> bytes | None:
        """The calendar file behind a notice's link: the club's event as it is now, or its
        cancellation; None for a link that is no one's (or no longer: stopped)."""
        if not (name.startswith("club-") and name.endswith(".ics")):
            return None
        subscription = self.courier.records.by_token(token)
        if subscription is None or subscription.kind != CLUB:
            return None
        key = unquote(name[len("club-") : -len(".ics")])
        now = self.courier.clock()
        occurrence = self._find(key, now)
        if occurrence is not None:
            return calendar.invitation(occurrence, agenda_url=self.club.club.agenda_url, now=now)
        start = self._planned_start(key, now)
        if start is None:
            return None
        return calendar.cancellation(key, start, now=now)

    def _planned_start(self, key: str, now: dt.datetime) -> dt.datetime | None:
        """When the club of `key`, gone from the agenda, was to start (its date, at the
        rule's hour); None for a key no agenda gave, or one too old to tell."""
        try:
            day = dt.date.fromisoformat(key.rsplit(":", 1)[-1])
        except ValueError:
            return None
        rule = self.club.club.schedule.rule
        if not key.startswith("feed:") and day != rule_date(
            rule.weekday, rule.week, day.year, day.month
        ):
            return None
        start = dt.datetime.combine(day, rule.start, tzinfo=self.zone)
        if start < now - LOOKBACK:  # past the agenda's memory: not known to be cancelled
            return None
        return start


def _key_day(key: str) -> dt.date | None:
    """The date an occurrence's key ends with (the rule's date, or the feed event's)."""
    try:
        return dt.date.fromisoformat(key.rsplit(":", 1)[-1])
    except ValueError:
        return None


def _unchanged(told: Told, occurrence: Occurrence | None, now: dt.datetime) -> bool:
    """Nothing to tell: what they were told still holds, or it no longer matters."""
    if told.start is None:  # they were told it was cancelled
        return True
    if occurrence is None:  # gone from the agenda: cancelled, unless it was past already
        return told.start <= now
    return occurrence.start == told.start or occurrence.start <= now
