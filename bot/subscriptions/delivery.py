"""What every personal message shares: queued in the outbox under its key, sent as a DM.

The club's notices, the certification's and the newcomers' follow-up each decide what is
due and what it says; the outbox rows and the DM itself go the same way for all three.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.chat import NoSuchUser, Platforms, Reply
from bot.clock import Clock, utc_now
from bot.outbox.store import Effect, Job
from bot.outbox.worker import OutboxWorker, Permanent
from bot.speech import speak
from bot.subscriptions.records import SubscriptionRecords

# Called when the platform no longer knows the person: every subscription of theirs ends.
Left = Callable[[str, str], Awaitable[None]]


def recipient(job: Job) -> tuple[str, str]:
    """The platform and the user id a personal message's outbox row is for."""
    return str(job.payload["platform"]), str(job.payload["user_id"])


@dataclass(frozen=True)
class Courier:
    """The parts every personal message goes through, whatever it says."""

    records: SubscriptionRecords
    platforms: Platforms
    outbox: OutboxWorker
    left: Left
    clock: Clock = utc_now

    async def queue(self, effects: Sequence[Effect], now: dt.datetime) -> int:
        """Add the rows not queued before (their key is the record that they were) and wake
        the outbox when there are any; the number newly queued."""
        if not effects:
            return 0
        added = await asyncio.to_thread(self.outbox.store.add_all, list(effects), now)
        if added:
            self.outbox.kick()
        return len(added)

    async def send(self, job: Job, text: str) -> None:
        """Send `text` to the job's person, in their platform's dialect, once: a retried job
        (`attempts > 1`) lets the platform find the copy a dead sender already made."""
        platform_name, user_id = recipient(job)
        platform = self.platforms.get(platform_name)
        try:
            await platform.send_direct(
                user_id, speak(Reply(text), platform.dialect), key=job.key, retry=job.attempts > 1
            )
        except NoSuchUser:
            await self.left(platform_name, user_id)
            raise Permanent(f"user {user_id} not found on {platform_name}") from None
