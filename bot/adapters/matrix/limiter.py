"""A token bucket in front of every request to the homeserver.

Tchap asks bots for about one API call per second. A quiet bot keeps a small
burst in hand, so one answer goes out at once; under load requests queue in
arrival order (asyncio.Lock wakes its waiters first in, first out) and leave
at the sustained pace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    def __init__(
        self,
        per_second: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be > 0 and burst >= 1")
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = asyncio.Lock()
        self.requests = 0
        self.waiting = 0
        self.waited_seconds = 0.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.per_second)
        self._updated = now

    async def acquire(self) -> None:
        """Return when one more request may go out."""
        self.waiting += 1
        try:
            async with self._lock:
                self._refill()
                if self._tokens < 1:
                    delay = (1 - self._tokens) / self.per_second
                    self.waited_seconds += delay
                    await self._sleep(delay)
                    self._refill()
                self._tokens -= 1
                self.requests += 1
        finally:
            self.waiting -= 1
