"""A token bucket in front of requests to the homeserver, shared fairly.

Tchap asks bots for about one API call per second. A quiet bot keeps a small
burst in hand, so one answer goes out at once; under load requests queue and leave
at the sustained pace, taking turns by lane: one person's burst of questions (or one
room's) does not go out before everyone else's answers, their requests alternate
with the others', first in, first out within each lane.

A request's lane is the person it is for (`LANE`, set by the event router for the
work a question causes), else the room its path names, else a common one.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from urllib.parse import unquote

# Who the requests made in this context are for (a user id); "" when nobody in particular.
LANE: ContextVar[str] = ContextVar("matrix_request_lane", default="")
_ROOM_IN_PATH = re.compile(r"/rooms/([^/]+)/")


def lane_of(path: str) -> str:
    """The lane of a request: the context's person, else the room in its path, else ""."""
    person = LANE.get()
    if person:
        return person
    room = _ROOM_IN_PATH.search(path)
    return unquote(room.group(1)) if room else ""


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
        # Waiting requests by lane; the dict's order is the lanes' turn (round robin).
        self._lanes: dict[str, deque[asyncio.Future[None]]] = {}
        self._pump: asyncio.Task[None] | None = None
        self.requests = 0
        self.waiting = 0
        self.waited_seconds = 0.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.per_second)
        self._updated = now

    async def acquire(self, lane: str = "") -> None:
        """Return when one more request of `lane` may go out."""
        self._refill()
        if not self._lanes and self._tokens >= 1:
            self._tokens -= 1
            self.requests += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._lanes.setdefault(lane, deque()).append(turn)
        self.waiting += 1
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._give_turns())
        try:
            await turn
        except asyncio.CancelledError:
            queue = self._lanes.get(lane)
            if queue is not None and turn in queue:
                queue.remove(turn)
                if not queue:
                    del self._lanes[lane]
            raise
        finally:
            self.waiting -= 1

    async def _give_turns(self) -> None:
        """Hand the tokens out as they come, one lane after the other."""
        while self._lanes:
            self._refill()
            if self._tokens < 1:
                delay = (1 - self._tokens) / self.per_second
                self.waited_seconds += delay
                await self._sleep(delay)
                continue
            lane = next(iter(self._lanes))
            queue = self._lanes.pop(lane)
            turn = queue.popleft()
            if queue:
                self._lanes[lane] = queue  # back of the line: the other lanes go first
            if turn.done():  # its request was cancelled while waiting
                continue
            self._tokens -= 1
            self.requests += 1
            turn.set_result(None)
