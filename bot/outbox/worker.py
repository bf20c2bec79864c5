"""Performs the outbox's effects: right after they are queued, then again until done.

Each kind of effect has one handler, registered by the service that queues it. A handler
that raises is retried later with a growing wait (a network error, Mattermost restarting);
one that raises `Permanent` is given up and logged. A row claimed by a process that died
is performed again once its lease has run out, by any replica, at start-up too. A handler
whose platform is not connected yet (PlatformUnavailable) has not tried: the row waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from bot.chat import PlatformUnavailable
from bot.outbox.store import Effect, Job, OutboxStore
from bot.store import utcnow

log = logging.getLogger(__name__)

Handler = Callable[[Job], Awaitable[None]]

MAX_WAIT = 300.0
MAX_ATTEMPTS = 100  # with waits capped at 5 min: about 8 hours of trying


class Permanent(Exception):
    """This effect can never be performed (the person is gone...): give it up."""


class OutboxWorker:
    def __init__(
        self,
        store: OutboxStore,
        owner: str,
        *,
        lease: timedelta = timedelta(seconds=60),
        poll: float = 5.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.owner = owner
        self.lease = lease
        self.poll = poll
        self.clock = clock
        self._handlers: dict[str, Handler] = {}
        self._wake = asyncio.Event()

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    async def queue(self, effect: Effect) -> bool:
        """Queue one effect and perform it in the background; False if queued before."""
        added = await asyncio.to_thread(self.store.add, effect, self.clock())
        if added:
            self.kick()
        return added

    def kick(self) -> None:
        """Look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def deliver(self, keys: Iterable[str]) -> dict[str, bool]:
        """Claim and perform these rows now (those free to claim); key -> done."""
        results: dict[str, bool] = {}
        for key in keys:
            job = await asyncio.to_thread(
                self.store.claim, key, self.owner, self.clock(), self.lease
            )
            if job is not None:
                results[key] = await self._perform(job)
        return results

    async def run_due(self) -> int:
        """Perform every row that is due; the number done."""
        keys = await asyncio.to_thread(self.store.due, self.clock())
        return sum((await self.deliver(keys)).values())

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: perform what is due, then wait for a kick or the next poll."""
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.run_due()
            except Exception:  # the store briefly unreachable: try again at the next poll
                log.exception("event=outbox_pass_failed")
            with contextlib.suppress(TimeoutError):
                waiters = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self._wake.wait()),
                ]
                try:
                    await asyncio.wait(waiters, timeout=self.poll, return_when="FIRST_COMPLETED")
                finally:
                    for waiter in waiters:
                        waiter.cancel()

    async def _perform(self, job: Job) -> bool:
        handler = self._handlers.get(job.kind)
        if handler is None:  # a kind another process (another version) performs
            await asyncio.to_thread(self.store.release, job, self.owner, self.clock(), "no handler")
            return False
        try:
            await handler(job)
        except PlatformUnavailable as error:
            # Not an attempt: it waits, due, for the next pass (a poll, or a kick when the
            # platform connects), with no growing wait and no give-up.
            await asyncio.to_thread(self.store.release, job, self.owner, self.clock(), str(error))
            log.info("event=outbox_waiting_platform key=%s error=%r", job.key, str(error))
            return False
        except Permanent as error:
            await asyncio.to_thread(self.store.fail, job, self.owner, self.clock(), str(error))
            log.error(
                "event=outbox_given_up key=%s kind=%s error=%r", job.key, job.kind, str(error)
            )
            return False
        except Exception as error:
            detail = f"{error.__class__.__name__}: {error}"[:300]
            if job.attempts >= MAX_ATTEMPTS:
                await asyncio.to_thread(self.store.fail, job, self.owner, self.clock(), detail)
                log.error(
                    "event=outbox_given_up key=%s kind=%s attempts=%d error=%r",
                    job.key,
                    job.kind,
                    job.attempts,
                    detail,
                )
                return False
            wait = min(MAX_WAIT, 2.0**job.attempts)
            await asyncio.to_thread(
                self.store.retry, job, self.owner, self.clock() + timedelta(seconds=wait), detail
            )
            log.warning(
                "event=outbox_retry key=%s kind=%s attempt=%d retry_in=%.0f error=%r",
                job.key,
                job.kind,
                job.attempts,
                wait,
                detail,
            )
            return False
        if not await asyncio.to_thread(self.store.done, job, self.owner, self.clock()):
            # Our lease ran out while performing and someone else took the row over.
            log.warning("event=outbox_lease_lost key=%s kind=%s", job.key, job.kind)
        log.info("event=outbox_done key=%s kind=%s attempt=%d", job.key, job.kind, job.attempts)
        return True


def effects_keys(effects: Iterable[Effect]) -> list[str]:
    return [effect.key for effect in effects]
