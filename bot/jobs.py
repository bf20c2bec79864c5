"""APScheduler 3 in the runner: one job per upcoming reminder, a sweep, and periodic jobs.

APScheduler's own job stores cannot be shared between processes, so they hold
nothing durable here: jobs are derived from the content (stable ids, rebuilt on
reload) and every decision to post goes through the store's claim. The date jobs
give punctuality; the sweep catches up after downtime and takes over from a
crashed replica.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.club.service import ClubService

log = logging.getLogger(__name__)

SWEEP_EVERY = dt.timedelta(seconds=60)
FEED_EVERY = dt.timedelta(hours=1)
JOB_HORIZON = dt.timedelta(days=45)
REMINDER_PREFIX = "reminder:"


class JobScheduler:
    """The club's reminder jobs, plus the periodic jobs `app.py` adds (invitations, retention)."""

    def __init__(self, service: ClubService, *, reminders: bool = True) -> None:
        self.service = service
        self.reminders = reminders
        self._sweeping = False
        self._sweep_again = False  # asked for while a sweep ran: that sweep goes round once more
        self._scheduler = AsyncIOScheduler(
            timezone=dt.UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                # A job that fires late (busy loop, suspended VM) still runs within the grace
                # period; the service then decides, from the store, whether it is due.
                # APScheduler refuses 0 (grace_hours = 0, or under a second): at least 1 s.
                "misfire_grace_time": max(1, int(service.grace.total_seconds())),
            },
        )

    def start(self) -> None:
        now = self.service.clock()
        if not self.reminders:
            self._scheduler.start()
            return
        # The feed and the sweep run at once (catching up after downtime), then periodically.
        for job_id, func, period in (
            ("club-feed", self.service.refresh_feed, FEED_EVERY),
            ("sweep", self._sweep, SWEEP_EVERY),
        ):
            self._scheduler.add_job(
                func,
                IntervalTrigger(seconds=period.total_seconds()),
                id=job_id,
                next_run_time=now,
                replace_existing=True,
            )
        self._scheduler.add_job(
            self.replan, IntervalTrigger(hours=6), id="replan", replace_existing=True
        )
        self._scheduler.start()
        self.replan()

    def sweep_now(self) -> None:
        """Run the sweep at once (a platform just connected: post what waited for it).

        A sweep already running may have passed that platform's reminders by: APScheduler
        would skip a second instance, so the running one sweeps once more when it ends.
        """
        if not (self.reminders and self._scheduler.running):
            return
        if self._sweeping:
            self._sweep_again = True
        else:
            self._scheduler.modify_job("sweep", next_run_time=self.service.clock())

    async def _sweep(self) -> None:
        self._sweeping = True
        try:
            while True:
                self._sweep_again = False
                await self.service.sweep()
                if not self._sweep_again:
                    return
        finally:
            self._sweeping = False

    def every(
        self,
        seconds: float,
        func: Callable[[], Awaitable[object]],
        job_id: str,
        first_after: float = 60.0,
    ) -> None:
        """A periodic job (recalls, retention), first run `first_after` seconds after start."""
        first = self.service.clock() + dt.timedelta(seconds=first_after)
        self._scheduler.add_job(
            func,
            IntervalTrigger(seconds=seconds),
            id=job_id,
            next_run_time=first,
            replace_existing=True,
        )

    def replan(self) -> None:
        """(Re)build one date job per upcoming reminder from the current content."""
        now = self.service.clock()
        wanted = {
            item.key: item
            for item in self.service.planned(now)
            if now < item.at <= now + JOB_HORIZON
        }
        for job in self._scheduler.get_jobs():
            if job.id.startswith(REMINDER_PREFIX) and job.id[len(REMINDER_PREFIX) :] not in wanted:
                job.remove()
        for key, item in wanted.items():
            self._scheduler.add_job(
                self.service.fire_key,
                DateTrigger(run_date=item.at),
                args=[key],
                id=REMINDER_PREFIX + key,
                replace_existing=True,
            )
        nxt = min(wanted.values(), key=lambda item: item.at, default=None)
        log.info(
            "event=reminders_planned jobs=%d next=%s next_at=%s",
            len(wanted),
            nxt.key if nxt else "-",
            nxt.at.isoformat() if nxt else "-",
        )

    def next_reminder(self) -> tuple[str, str] | None:
        jobs = [
            j
            for j in self._scheduler.get_jobs()
            if j.id.startswith(REMINDER_PREFIX) and j.next_run_time
        ]
        if not jobs:
            return None
        first = min(jobs, key=lambda job: job.next_run_time)
        return first.id[len(REMINDER_PREFIX) :], first.next_run_time.isoformat()

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
