"""Daylight saving in Europe/Paris: reminders keep their wall-clock times.

« 7j à 09:30 » is 09:30 on the calendar day seven days before, whichever side of the
change each day falls on; a number of hours or minutes is elapsed time. Each expected
instant is checked on the plan and through `sweep()` with a fixed clock: nothing a
second before, the post at the second.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.club.service import ClubService
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.store import Store
from tests.integration.harness import PARIS, FilePoster, posts_by_marker, reminder, write_content

UTC = dt.UTC
SECOND = dt.timedelta(seconds=1)
REAL_REMINDERS = None  # keep content/club.yaml's own reminders (j-7, j-1, h-1)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# (club start in Paris, exceptions, reminders, {reminder id: (expected instant, Paris wall time)})
CASES: dict[
    str, tuple[dt.datetime, list[dict[str, Any]], Any, dict[str, tuple[dt.datetime, str]]]
] = {
    # The usual first Thursday, four days after the change to summer time (29 March 2026).
    "march-usual-club": (
        dt.datetime(2026, 4, 2, 16, 0, tzinfo=PARIS),
        [],
        REAL_REMINDERS,
        {
            "j-7": (utc(2026, 3, 26, 8, 30), "09:30+01:00"),  # winter time
            "j-1": (utc(2026, 4, 1, 7, 30), "09:30+02:00"),  # summer time
            "h-1": (utc(2026, 4, 2, 13, 0), "15:00+02:00"),
        },
    ),
    # Moved to the Monday just after the change: « 1j » falls on the change day itself.
    "march-moved-to-monday": (
        dt.datetime(2026, 3, 30, 16, 0, tzinfo=PARIS),
        [{"date": dt.date(2026, 4, 2), "moved_to": dt.date(2026, 3, 30)}],
        REAL_REMINDERS,
        {
            "j-7": (utc(2026, 3, 23, 8, 30), "09:30+01:00"),
            "j-1": (utc(2026, 3, 29, 7, 30), "09:30+02:00"),
            "h-1": (utc(2026, 3, 30, 13, 0), "15:00+02:00"),
        },
    ),
    # Moved to the Tuesday after the change back to winter time (25 October 2026).
    "october-moved-to-tuesday": (
        dt.datetime(2026, 10, 27, 16, 0, tzinfo=PARIS),
        [{"date": dt.date(2026, 11, 5), "moved_to": dt.date(2026, 10, 27)}],
        [
            reminder("j-7", "7j", at="09:30"),
            reminder("j-2", "2j", at="09:30"),  # on the change day
            reminder("j-1", "1j", at="09:30"),
            reminder("h-1", "1h"),
        ],
        {
            "j-7": (utc(2026, 10, 20, 7, 30), "09:30+02:00"),
            "j-2": (utc(2026, 10, 25, 8, 30), "09:30+01:00"),
            "j-1": (utc(2026, 10, 26, 8, 30), "09:30+01:00"),
            "h-1": (utc(2026, 10, 27, 14, 0), "15:00+01:00"),
        },
    ),
    # Hours are elapsed time: twenty real hours, though the clocks moved in between.
    "march-hours-across-the-change": (
        dt.datetime(2026, 3, 29, 16, 0, tzinfo=PARIS),
        [{"date": dt.date(2026, 4, 2), "moved_to": dt.date(2026, 3, 29)}],
        [reminder("h-20", "20h"), reminder("j-1", "1j")],
        {
            "h-20": (utc(2026, 3, 28, 18, 0), "19:00+01:00"),
            "j-1": (utc(2026, 3, 28, 15, 0), "16:00+01:00"),  # days: same wall time
        },
    ),
    "october-hours-across-the-change": (
        dt.datetime(2026, 10, 25, 16, 0, tzinfo=PARIS),
        [{"date": dt.date(2026, 11, 5), "moved_to": dt.date(2026, 10, 25)}],
        [reminder("h-20", "20h"), reminder("j-1", "1j")],
        {
            "h-20": (utc(2026, 10, 24, 19, 0), "21:00+02:00"),
            "j-1": (utc(2026, 10, 24, 14, 0), "16:00+02:00"),
        },
    ),
    # A club at 03:30 on the night of the change: « 1h » before is one real hour before.
    "one-hour-before-a-club-in-the-night-of-the-change": (
        dt.datetime(2026, 3, 29, 3, 30, tzinfo=PARIS),
        [
            {
                "date": dt.date(2026, 4, 2),
                "moved_to": dt.date(2026, 3, 29),
                "start": "03:30",
                "end": "04:30",
            }
        ],
        [reminder("h-1", "1h"), reminder("min-30", "30min")],
        {
            "h-1": (utc(2026, 3, 29, 0, 30), "01:30+01:00"),
            "min-30": (utc(2026, 3, 29, 1, 0), "03:00+02:00"),
        },
    ),
}


def _wall(instant: dt.datetime) -> str:
    local = instant.astimezone(PARIS)
    return local.strftime("%H:%M") + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]


@pytest.mark.parametrize("case", list(CASES))
async def test_reminders_keep_their_wall_clock_times_across_the_change(
    tmp_path: Path, case: str
) -> None:
    club_start, exceptions, reminders, expected = CASES[case]
    if reminders is REAL_REMINDERS and not exceptions:
        content = DEFAULT_CONTENT_DIR
    else:
        content = write_content(
            tmp_path / "content",
            reminders if reminders is not REAL_REMINDERS else _real_reminders(),
            exceptions=[*_real_exceptions(), *exceptions],
        )
    now = [club_start - dt.timedelta(days=10)]
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    posts = tmp_path / "posts.jsonl"
    service = ClubService(
        ContentSource(content),
        store,
        owner="dst",
        channel=FilePoster(posts, lambda: now[0]),
        clock=lambda: now[0],
    )
    try:
        planned = {
            item.reminder.id: item
            for item in service.planned(now[0])
            if item.occurrence.start == club_start
        }
        assert {rid: (item.at, _wall(item.at)) for rid, item in planned.items()} == expected

        for rid, (instant, _) in sorted(expected.items(), key=lambda pair: pair[1][0]):
            marker = f"reminder:{planned[rid].key}"
            now[0] = instant - SECOND
            await service.sweep()
            assert marker not in posts_by_marker(posts), f"{rid} posted early"
            now[0] = instant
            await service.sweep()
            assert posts_by_marker(posts).get(marker) == 1, f"{rid} not posted at {instant}"
    finally:
        store.close()


def _real_club() -> dict[str, Any]:
    return dict(yaml.safe_load((DEFAULT_CONTENT_DIR / "club.yaml").read_text(encoding="utf-8")))


def _real_reminders() -> list[dict[str, Any]]:
    return list(_real_club()["reminders"])


def _real_exceptions() -> list[dict[str, Any]]:
    return list(_real_club()["schedule"]["exceptions"])
