"""The subscriptions' parts built from the settings, their commands registered on the
conversation and their sweep on the scheduler (called by `bot/app.py`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.answers.conversation import Conversation
from bot.answers.topic_actions import STOP, SUBSCRIBE
from bot.chat import Platforms
from bot.clock import Clock
from bot.club.service import ClubService
from bot.config import DEFAULT_TIMEZONE, Settings
from bot.content.schedule import parse_duration
from bot.jobs import JobScheduler
from bot.outbox.worker import OutboxWorker
from bot.store import Store
from bot.subscriptions.certification_delivery import ANNOUNCE_WINDOW, CertificationNotices
from bot.subscriptions.club_delivery import ClubNotices, ClubNoticeSettings
from bot.subscriptions.club_notices import NoticeTiming
from bot.subscriptions.delivery import Courier
from bot.subscriptions.newcomers import NewcomerFollowUps
from bot.subscriptions.quiet import QuietHours
from bot.subscriptions.records import SubscriptionRecords
from bot.subscriptions.schema import CERTIFICATION, CLUB
from bot.subscriptions.service import SubscriptionService

# The sweep's first look after start-up: what a restart missed goes out at once.
FIRST_SWEEP_AFTER = 2.0


@dataclass(frozen=True)
class Subscriptions:
    records: SubscriptionRecords
    service: SubscriptionService
    club_notices: ClubNotices
    certification_notices: CertificationNotices
    newcomers: NewcomerFollowUps

    async def joined(self, platform: str, user_id: str) -> None:
        """Someone was just welcomed (bot/greeter.py): their follow-up, later."""
        await self.newcomers.joined(platform, user_id)

    async def left(self, platform: str, user_id: str) -> None:
        """Someone left the community on `platform`: their subscriptions there end."""
        await self.service.left(platform, user_id)

    async def sweep(self) -> int:
        """Queue every personal message due now; the number newly queued."""
        queued = await self.club_notices.sweep()
        queued += await self.certification_notices.sweep()
        return queued + await self.newcomers.sweep()


def quiet_hours(settings: Settings) -> QuietHours:
    config = settings.subscriptions
    return QuietHours(
        start=config.quiet_start,
        until=config.quiet_until,
        weekend=config.quiet_weekend,
        zone=ZoneInfo(DEFAULT_TIMEZONE),
        enabled=config.quiet_hours,
    )


def build(
    settings: Settings,
    store: Store,
    club: ClubService,
    platforms: Platforms,
    outbox: OutboxWorker,
    clock: Clock,
) -> Subscriptions:
    config = settings.subscriptions
    records = SubscriptionRecords(store)
    service = SubscriptionService(records, clock, content=club.content)
    quiet = quiet_hours(settings)
    timing = NoticeTiming(
        parse_duration(config.club_before),
        dt.time.fromisoformat(config.club_at) if config.club_at else None,
    )
    courier = Courier(records, platforms, outbox, service.left, clock)
    notices = ClubNotices(
        courier,
        club,
        ClubNoticeSettings(
            timing,
            dt.timedelta(hours=config.grace_hours),
            quiet,
            settings.http.public_url,
        ),
    )
    certification = CertificationNotices(
        courier,
        club.content,
        quiet,
        config.certification_reminder_days,
        min(ANNOUNCE_WINDOW, dt.timedelta(days=settings.outbox.retention_days)),
    )
    days = config.newcomer_follow_up_days
    newcomers = NewcomerFollowUps(courier, club, quiet, dt.timedelta(days=days) if days else None)
    return Subscriptions(records, service, notices, certification, newcomers)


def register(conversation: Conversation, subscriptions: Subscriptions) -> None:
    service = subscriptions.service
    for kind in (CLUB, CERTIFICATION):
        conversation.serve_topic_action(kind, SUBSCRIBE, service.subscribe(kind))
        conversation.serve_topic_action(kind, STOP, service.stop(kind))
    conversation.register("mes-abonnements", service.mine)


def schedule(scheduler: JobScheduler, subscriptions: Subscriptions, settings: Settings) -> None:
    if settings.subscriptions.enabled:
        scheduler.every(
            settings.subscriptions.sweep_seconds,
            subscriptions.sweep,
            "subscriptions-sweep",
            FIRST_SWEEP_AFTER,
        )
