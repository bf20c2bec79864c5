"""A platform that connects while a sweep runs still gets its sweep: the running one goes
round once more (APScheduler would skip a second instance, and the next is a minute away)."""

from __future__ import annotations

import asyncio

from bot.club.service import ClubService
from bot.content.loader import ContentSource
from bot.jobs import JobScheduler
from tests.waiting import eventually


async def test_a_sweep_asked_for_during_a_sweep_runs_when_it_ends() -> None:
    service = ClubService(ContentSource(), None, owner="t")
    running, release = asyncio.Event(), asyncio.Event()
    sweeps = []

    async def sweep() -> None:
        sweeps.append(len(sweeps) + 1)
        if len(sweeps) == 1:  # the start-up sweep, still busy when the platform connects
            running.set()
            await release.wait()

    service.sweep = sweep  # type: ignore[method-assign]
    scheduler = JobScheduler(service)
    scheduler.start()
    try:
        await asyncio.wait_for(running.wait(), 5)
        scheduler.sweep_now()  # the platform connected
        release.set()
        await eventually(lambda: len(sweeps) >= 2, "a second sweep after the first", timeout=5)
        await asyncio.sleep(0.2)
        assert sweeps == [1, 2]  # once more, not in a loop
        scheduler.sweep_now()  # no sweep running: the job itself is run at once
        await eventually(lambda: len(sweeps) == 3, "a sweep at once", timeout=5)
    finally:
        scheduler.shutdown()
