"""The outbox on a real store: queued once, performed until done, taken over after a crash."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.chat import PlatformUnavailable
from bot.outbox.store import DONE, FAILED, PENDING, Effect, Job, OutboxStore
from bot.outbox.worker import OutboxWorker, Permanent
from bot.store import Store
from tests.fakes import FakeClock

NOW = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=60)


@pytest.fixture
def outbox(tmp_path: Path) -> OutboxStore:
    return OutboxStore(Store.open(f"sqlite:///{tmp_path}/outbox.db"))


def test_a_key_is_queued_once_and_claimed_by_one_worker(outbox: OutboxStore) -> None:
    effect = Effect("welcome:u1", "welcome", {"user_id": "u1"})
    assert outbox.add(effect, NOW)
    assert not outbox.add(effect, NOW)  # the same message again: nothing new
    first = outbox.claim("welcome:u1", "a", NOW, LEASE)
    assert first is not None and first.payload == {"user_id": "u1"} and first.attempts == 1
    assert outbox.claim("welcome:u1", "b", NOW + dt.timedelta(seconds=30), LEASE) is None
    assert outbox.done(first, "a", NOW)
    assert outbox.claim("welcome:u1", "b", NOW + dt.timedelta(hours=1), LEASE) is None
    assert outbox.states() == {"welcome:u1": DONE}


def test_a_dead_holder_is_taken_over_after_its_lease_and_loses_the_row(
    outbox: OutboxStore,
) -> None:
    outbox.add(Effect("k", "kind", {}), NOW)
    dead = outbox.claim("k", "dead", NOW, LEASE)
    assert dead is not None
    assert outbox.due(NOW + dt.timedelta(seconds=59)) == []
    later = NOW + dt.timedelta(seconds=61)
    assert outbox.due(later) == ["k"]
    alive = outbox.claim("k", "alive", later, LEASE)
    assert alive is not None and alive.attempts == 2
    assert not outbox.done(dead, "dead", later)  # the late holder cannot finish it
    assert outbox.done(alive, "alive", later)


def test_effects_queued_in_a_transaction_that_fails_are_not_queued(outbox: OutboxStore) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), outbox.engine.begin() as connection:
        OutboxStore.add_in(connection, [Effect("k", "kind", {})], NOW)
        raise Boom()
    assert outbox.states() == {}


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


def test_worker_retries_a_failing_effect_until_done(outbox: OutboxStore) -> None:
    clock = FakeClock()
    worker = OutboxWorker(outbox, "w", clock=clock)
    calls: list[int] = []

    async def flaky(job: Job) -> None:
        calls.append(job.attempts)
        if len(calls) < 3:
            raise ConnectionError("Mattermost is restarting")

    worker.register("dm", flaky)
    outbox.add(Effect("k", "dm", {}), NOW)
    assert run(worker.deliver(["k"])) == {"k": False}
    assert run(worker.run_due()) == 0  # waiting before the next attempt
    clock.now += dt.timedelta(seconds=3)
    assert run(worker.run_due()) == 0
    clock.now += dt.timedelta(seconds=5)
    assert run(worker.run_due()) == 1
    assert calls == [1, 2, 3]
    assert outbox.states() == {"k": DONE}
    clock.now += dt.timedelta(days=1)
    assert run(worker.run_due()) == 0 and calls == [1, 2, 3]  # never again


def test_a_permanent_failure_is_given_up(outbox: OutboxStore) -> None:
    worker = OutboxWorker(outbox, "w", clock=FakeClock())

    async def gone(job: Job) -> None:
        raise Permanent("user deleted")

    worker.register("dm", gone)
    outbox.add(Effect("k", "dm", {}), NOW)
    assert run(worker.deliver(["k"])) == {"k": False}
    assert outbox.states() == {"k": FAILED}


def test_a_kind_without_handler_waits_for_one(outbox: OutboxStore) -> None:
    clock = FakeClock()
    outbox.add(Effect("k", "later", {}), NOW)
    early = OutboxWorker(outbox, "early", clock=clock)
    assert run(early.run_due()) == 0
    assert outbox.states() == {"k": PENDING}
    clock.now += dt.timedelta(seconds=10)
    ready = OutboxWorker(outbox, "ready", clock=clock)
    done: list[str] = []

    async def handler(job: Job) -> None:
        done.append(job.key)

    ready.register("later", handler)
    assert run(ready.run_due()) == 1 and done == ["k"]


def test_a_platform_not_connected_yet_is_waited_for_without_counting_attempts(
    outbox: OutboxStore,
) -> None:
    clock = FakeClock()
    outbox.add(Effect("k", "dm", {}), NOW)
    worker = OutboxWorker(outbox, "w", clock=clock)
    connected = False
    seen: list[int] = []

    async def handler(job: Job) -> None:
        if not connected:
            raise PlatformUnavailable("Mattermost has not answered yet")
        seen.append(job.attempts)

    worker.register("dm", handler)
    for _ in range(150):  # more passes than MAX_ATTEMPTS: waiting never gives up
        assert run(worker.run_due()) == 0
    assert outbox.states() == {"k": PENDING}
    connected = True  # due at once, no growing wait: the very next pass sends it
    assert run(worker.run_due()) == 1
    # As a first attempt: nothing could have been sent before, so no look for a copy.
    assert seen == [1] and outbox.states() == {"k": DONE}


def test_the_worker_loop_performs_what_is_queued_and_stops(outbox: OutboxStore) -> None:
    async def scenario() -> list[str]:
        worker = OutboxWorker(outbox, "w", poll=30)
        performed: list[str] = []
        arrived = asyncio.Event()

        async def handler(job: Job) -> None:
            performed.append(job.key)
            arrived.set()

        worker.register("dm", handler)
        stop = asyncio.Event()
        loop = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0)
        await worker.queue(Effect("k", "dm", {}))  # the kick wakes the loop before its poll
        await asyncio.wait_for(arrived.wait(), 5)
        stop.set()
        await asyncio.wait_for(loop, 5)
        return performed

    assert run(scenario()) == ["k"]


def test_pending_count_and_purge_of_finished_rows(outbox: OutboxStore) -> None:
    for key in ("a", "b"):
        outbox.add(Effect(key, "kind", {}), NOW)
    job = outbox.claim("a", "w", NOW, LEASE)
    assert job is not None and outbox.done(job, "w", NOW)
    assert outbox.pending_count() == 1
    assert outbox.purge_finished_before(NOW + dt.timedelta(days=31)) == 1
    assert outbox.states() == {"b": PENDING}  # what is not sent yet is never forgotten
