"""The newcomers' follow-up: one DM, some days after the welcome, with the three most useful
next steps, and no other unless asked for.

The welcome (bot/greeter.py) records the newcomer here as a "newcomer" row; `sweep` (the
subscriptions' periodic job) queues the follow-up of each row old enough, keyed by person
and platform, outside quiet hours; `send` drops the row once sent. A person forgotten
(`intra-bot forget`) or gone from the platform meanwhile gets nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from zoneinfo import ZoneInfo

from bot import french
from bot.club import agenda
from bot.club.service import ClubService
from bot.content.typography import french as typography
from bot.outbox.store import Effect, Job
from bot.subscriptions import delivery
from bot.subscriptions.club_notices import person_digest
from bot.subscriptions.quiet import QuietHours
from bot.subscriptions.schema import NEWCOMER

log = logging.getLogger(__name__)

FOLLOW_UP = "subscriptions.newcomer_follow_up"
ONBOARDING_TOPIC = "embarquement"


def follow_up_text(onboarding_url: str, next_club: str) -> str:
    steps = [
        "1. **La session d'embarquement des intras**, en visio, si ce n'est pas déjà fait : "
        + (onboarding_url or "`/intra embarquement`"),
        f"2. **Le club intras** : le prochain a lieu {next_club}. Pour être prévenu la veille : "
        "`/intra club prevenez-moi`."
        if next_club
        else "2. **Le club intras**, à chaque forum mensuel : `/intra club` ; pour être prévenu la "
        "veille : `/intra club prevenez-moi`.",
        "3. **Les référentes**, pour toute question : `/intra referents`.",
    ]
    return typography(
        "👋 Bonjour ! Vous avez rejoint la communauté des intras il y a deux semaines : "
        "voici trois pistes pour la suite.\n"
        + "\n".join(steps)
        + "\n\n_C'est mon seul message spontané : vous n'en recevrez pas d'autre, sauf les "
        "rappels que vous demanderez (`/intra mes-abonnements`)._"
    )


class NewcomerFollowUps:
    def __init__(
        self,
        courier: delivery.Courier,
        club: ClubService,
        quiet: QuietHours,
        after: dt.timedelta | None,
    ) -> None:
        self.courier = courier
        self.club = club
        self.quiet = quiet
        self.after = after  # None: no follow-up
        courier.outbox.register(FOLLOW_UP, self.send)

    async def joined(self, platform: str, user_id: str) -> None:
        """Someone was welcomed just now: follow them up later."""
        if self.after is not None:
            await asyncio.to_thread(
                self.courier.records.subscribe, platform, user_id, NEWCOMER, self.courier.clock()
            )

    async def sweep(self) -> int:
        now = self.courier.clock()
        if self.after is None or self.quiet.is_quiet(now):
            return 0
        waiting = await asyncio.to_thread(self.courier.records.of_kind, NEWCOMER)
        effects = [
            Effect(
                f"subscription:newcomer:{person_digest(row.platform, row.user_id)}",
                FOLLOW_UP,
                {"platform": row.platform, "user_id": row.user_id},
            )
            for row in waiting
            if row.created_at <= now - self.after
        ]
        added = await self.courier.queue(effects, now)
        if added:
            log.info("event=newcomer_follow_ups_queued count=%d", added)
        return added

    async def send(self, job: Job) -> None:
        platform_name, user_id = delivery.recipient(job)
        if (
            await asyncio.to_thread(self.courier.records.get, platform_name, user_id, NEWCOMER)
            is None
        ):
            log.info("event=newcomer_follow_up_dropped key=%s reason=forgotten", job.key)
            return
        text = follow_up_text(self._onboarding_url(), self._next_club())
        await self.courier.send(job, text)
        await asyncio.to_thread(
            self.courier.records.unsubscribe, platform_name, user_id, [NEWCOMER]
        )
        log.info(
            "event=newcomer_followed_up key=%s platform=%s user_id=%s",
            job.key,
            platform_name,
            user_id,
        )

    def _onboarding_url(self) -> str:
        topic = self.club.content.current.topics.get(ONBOARDING_TOPIC)
        links = (
            [link.url for link in topic.links if "inscri" in link.title.lower()] if topic else []
        )
        return links[0] if links else ""

    def _next_club(self) -> str:
        now = self.courier.clock()
        upcoming = agenda.upcoming(self.club.occurrences(now), now, 1)
        if not upcoming:
            return ""
        zone = ZoneInfo(self.club.club.schedule.timezone)
        start = upcoming[0].start.astimezone(zone)
        return f"le {french.day(start.date())} à {french.hour(start)}"
