"""The pace toward the homeserver: a burst at once, then about one request per second, in order."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.matrix.limiter import RateLimiter


class FakeTime:
    """A clock that only moves when someone sleeps: the limiter's waits, measured exactly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def limiter(per_second: float, burst: int, time: FakeTime) -> RateLimiter:
    return RateLimiter(per_second, burst, clock=time.clock, sleep=time.sleep)


async def test_a_burst_goes_out_without_waiting() -> None:
    time = FakeTime()
    pace = limiter(1.0, 10, time)
    for _ in range(10):
        await pace.acquire()
    assert time.slept == []
    assert pace.requests == 10


async def test_beyond_the_burst_requests_leave_at_the_sustained_pace() -> None:
    time = FakeTime()
    pace = limiter(1.0, 10, time)
    for _ in range(15):
        await pace.acquire()
    assert time.now == pytest.approx(5.0)  # 5 requests past the burst, 1 s each
    assert pace.waited_seconds == pytest.approx(5.0)


async def test_queued_requests_keep_their_arrival_order() -> None:
    time = FakeTime()
    pace = limiter(2.0, 1, time)
    order: list[int] = []

    async def request(n: int) -> None:
        await pace.acquire()
        order.append(n)

    await asyncio.gather(*(request(n) for n in range(6)))
    assert order == list(range(6))
    assert time.now == pytest.approx(2.5)  # 5 waits of 0.5 s at 2 requests per second
    assert pace.waiting == 0


async def test_a_quiet_period_refills_the_burst_but_not_beyond() -> None:
    time = FakeTime()
    pace = limiter(1.0, 3, time)
    for _ in range(3):
        await pace.acquire()
    time.now += 100.0  # a long quiet time earns at most `burst` requests
    for _ in range(3):
        await pace.acquire()
    assert time.slept == []
    await pace.acquire()
    assert time.slept == [pytest.approx(1.0)]


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 1)
    with pytest.raises(ValueError):
        RateLimiter(1, 0)
