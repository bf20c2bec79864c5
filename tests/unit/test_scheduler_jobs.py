"""The scheduler wrapper: one date job per reminder of the next weeks, a sweep, a feed refresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.clock import utc_now
from bot.club.service import ClubService
from bot.content.loader import ContentSource
from bot.jobs import JOB_HORIZON, REMINDER_PREFIX, JobScheduler


@pytest.fixture
async def running() -> AsyncIterator[JobScheduler]:
    # No store: the sweep that runs at start has nothing to post.
    scheduler = JobScheduler(ClubService(ContentSource(), None, owner="test"))
    scheduler.start()
    yield scheduler
    scheduler.shutdown()


def job_ids(scheduler: JobScheduler) -> set[str]:
    return {job.id for job in scheduler._scheduler.get_jobs()}


async def test_one_date_job_per_reminder_of_the_next_weeks(running: JobScheduler) -> None:
    now = utc_now()
    wanted = {i.key for i in running.service.planned(now) if now < i.at <= now + JOB_HORIZON}
    assert wanted  # the rule gives a club every month: some reminder is always ahead
    ids = job_ids(running)
    assert {i.removeprefix(REMINDER_PREFIX) for i in ids if i.startswith(REMINDER_PREFIX)} == wanted
    assert {"club-feed", "sweep", "replan"} <= ids
    key, at = running.next_reminder() or ("", "")
    first = min((i for i in running.service.planned(now) if i.key in wanted), key=lambda i: i.at)
    assert (key, dt.datetime.fromisoformat(at)) == (first.key, first.at)


async def test_replanning_drops_the_jobs_no_longer_planned(
    running: JobScheduler, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = running.service.planned(utc_now())
    monkeypatch.setattr(running.service, "planned", lambda now: [])
    running.replan()
    assert not any(i.startswith(REMINDER_PREFIX) for i in job_ids(running))
    assert running.next_reminder() is None
    monkeypatch.setattr(running.service, "planned", lambda now: kept)
    running.replan()
    assert running.next_reminder() is not None


async def test_without_reminders_no_job_is_planned() -> None:
    scheduler = JobScheduler(ClubService(ContentSource(), None, owner="t"), reminders=False)
    scheduler.start()
    try:
        assert job_ids(scheduler) == set()
        assert scheduler.next_reminder() is None
    finally:
        scheduler.shutdown()


async def test_a_periodic_job_first_runs_a_minute_after_start(running: JobScheduler) -> None:
    async def recall() -> None:
        raise AssertionError("not run in this test")

    before = utc_now()
    running.every(3600, recall, "recall")
    [job] = [j for j in running._scheduler.get_jobs() if j.id == "recall"]
    assert before + dt.timedelta(minutes=1) <= job.next_run_time
    assert job.next_run_time <= utc_now() + dt.timedelta(minutes=1)


def test_the_misfire_grace_follows_the_service_and_is_never_zero() -> None:
    def grace_of(service: ClubService) -> int:
        value = JobScheduler(service)._scheduler._job_defaults["misfire_grace_time"]
        return int(value)

    content = ContentSource()
    six_hours = ClubService(content, None, owner="t", grace=dt.timedelta(hours=6))
    assert grace_of(six_hours) == 6 * 3600
    tiny = ClubService(content, None, owner="t", grace=dt.timedelta(milliseconds=10))
    assert grace_of(tiny) == 1


def test_shutting_down_a_scheduler_never_started_is_harmless() -> None:
    JobScheduler(ClubService(ContentSource(), None, owner="t")).shutdown()
