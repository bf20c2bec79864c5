"""The pace toward the homeserver: a burst at once, then about one request per second, in order."""

from __future__ import annotations

import asyncio

import pytest
from mautrix.api import HTTPAPI, Method

from bot.adapters.matrix.http import PacedHTTPAPI
from bot.adapters.matrix.limiter import LANE, RateLimiter, lane_of


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


async def test_lanes_take_turns_so_one_burst_does_not_go_first() -> None:
    time = FakeTime()
    pace = limiter(1.0, 1, time)
    await pace.acquire("flooder")  # the burst, spent
    order: list[str] = []

    async def request(lane: str) -> None:
        await pace.acquire(lane)
        order.append(lane)

    flood = [asyncio.create_task(request("flooder")) for _ in range(5)]
    await asyncio.sleep(0)
    other = asyncio.create_task(request("bob"))
    await asyncio.gather(*flood, other)
    # Bob's one request went second, not sixth: one of the flooder's, then his.
    assert order.index("bob") == 1
    assert order.count("flooder") == 5
    assert time.now == pytest.approx(6.0)  # the pace is the same, only the order changed


async def test_within_a_lane_requests_keep_their_order() -> None:
    time = FakeTime()
    pace = limiter(2.0, 1, time)
    await pace.acquire()
    order: list[tuple[str, int]] = []

    async def request(lane: str, n: int) -> None:
        await pace.acquire(lane)
        order.append((lane, n))

    await asyncio.gather(*(request(lane, n) for n in range(3) for lane in ("a", "b")))
    assert [n for lane, n in order if lane == "a"] == [0, 1, 2]
    assert [n for lane, n in order if lane == "b"] == [0, 1, 2]


async def test_a_cancelled_wait_gives_its_turn_away() -> None:
    time = FakeTime()
    pace = limiter(1.0, 1, time)
    await pace.acquire()
    gone = asyncio.create_task(pace.acquire("a"))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.gather(gone, return_exceptions=True)
    await pace.acquire("b")
    assert time.now == pytest.approx(1.0)
    assert pace.waiting == 0
    assert pace.requests == 2


def test_a_request_is_in_its_persons_lane_else_its_rooms() -> None:
    path = "_matrix/client/v3/rooms/%21abc%3Aserver/send/m.room.message/txn"
    assert lane_of(path) == "!abc:server"
    assert lane_of("_matrix/client/v3/keys/query") == ""
    token = LANE.set("@alice:server")
    try:
        assert lane_of(path) == "@alice:server"
    finally:
        LANE.reset(token)


async def test_syncs_have_their_own_bucket() -> None:
    sends, syncs = RateLimiter(1.0, 1), RateLimiter(1.0, 1)
    api = PacedHTTPAPI("http://127.0.0.1:9", limiter=sends, sync_limiter=syncs)
    seen: list[str] = []

    async def fake_send(
        _self: object, _method: object, path: object, *a: object, **k: object
    ) -> dict[str, str]:
        seen.append(str(path))
        return {}

    original = HTTPAPI.request
    HTTPAPI.request = fake_send  # type: ignore[method-assign,assignment]
    try:
        await api.request(Method.PUT, "_matrix/client/v3/rooms/%21r%3As/send/m.room.message/1")
        # The send bucket is empty now; a sync still goes at once.
        await asyncio.wait_for(api.request(Method.GET, "_matrix/client/v3/sync"), timeout=0.5)
    finally:
        HTTPAPI.request = original  # type: ignore[method-assign]
    assert syncs.requests == 1 and sends.requests == 1
    assert seen[-1].endswith("/sync")
