"""The exact edges of the agenda window and of a reminder's due time, to the microsecond.

A window « [start, end) » that became « [start, end] » would show a club twice at a
month's seam; a reminder due « at or before now » that became « before now » would wait
for the next sweep. These tests sit on each edge and one microsecond either side.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.club import agenda, reminders
from bot.club.agenda import Occurrence
from bot.content.loader import Content
from bot.content.schedule import Schedule

PARIS = ZoneInfo("Europe/Paris")
TICK = dt.timedelta(microseconds=1)
GRACE = dt.timedelta(hours=6)
SCHEDULE = Schedule.model_validate(
    {
        "timezone": "Europe/Paris",
        "rule": {"weekday": "jeudi", "week": 1, "start": "16:00", "end": "17:00"},
        "place": "au forum",
    }
)
# The first Thursday of December 2026.
CLUB = dt.datetime(2026, 12, 3, 16, 0, tzinfo=PARIS)


def starts(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    return [occurrence.start for occurrence in agenda.from_rule(SCHEDULE, start, end)]


def test_the_window_includes_a_club_starting_at_its_start() -> None:
    assert starts(CLUB, CLUB + dt.timedelta(days=1)) == [CLUB]
    assert starts(CLUB + TICK, CLUB + dt.timedelta(days=1)) == []


def test_the_window_excludes_a_club_starting_at_its_end() -> None:
    assert starts(CLUB - dt.timedelta(days=1), CLUB) == []
    assert starts(CLUB - dt.timedelta(days=1), CLUB + TICK) == [CLUB]


def test_consecutive_windows_list_each_club_once() -> None:
    seam = CLUB  # a window ending exactly where the next one starts
    first = starts(dt.datetime(2026, 10, 1, tzinfo=PARIS), seam)
    second = starts(seam, dt.datetime(2027, 2, 1, tzinfo=PARIS))
    assert first + second == starts(
        dt.datetime(2026, 10, 1, tzinfo=PARIS), dt.datetime(2027, 2, 1, tzinfo=PARIS)
    )
    assert len(first + second) == len(set(first + second)) == 4


def test_a_window_far_from_now_still_finds_its_months() -> None:
    # The rule walks months around the window, in the schedule's zone, not around today.
    found = starts(dt.datetime(2031, 1, 1, tzinfo=dt.UTC), dt.datetime(2031, 4, 1, tzinfo=dt.UTC))
    assert [d.date() for d in found] == [
        dt.date(2031, 1, 2),
        dt.date(2031, 2, 6),
        dt.date(2031, 3, 6),
    ]


def test_a_club_is_upcoming_until_it_ends() -> None:
    [club] = agenda.from_rule(SCHEDULE, CLUB, CLUB + TICK)
    assert agenda.upcoming([club], club.end - TICK, 3) == [club]
    assert agenda.upcoming([club], club.end, 3) == []


def test_upcoming_keeps_order_and_count() -> None:
    clubs = agenda.from_rule(
        SCHEDULE, dt.datetime(2026, 1, 1, tzinfo=PARIS), dt.datetime(2027, 1, 1, tzinfo=PARIS)
    )
    now = dt.datetime(2026, 6, 1, tzinfo=PARIS)
    assert [c.start.month for c in agenda.upcoming(clubs, now, 2)] == [6, 7]
    assert agenda.upcoming(clubs, now, 0) == []


def test_the_last_weekday_of_a_month_with_five_of_them() -> None:
    assert agenda.rule_date("jeudi", -1, 2026, 10) == dt.date(2026, 10, 29)
    assert agenda.rule_date("jeudi", 5, 2026, 10) == dt.date(2026, 10, 29)
    assert agenda.rule_date("lundi", 1, 2026, 6) == dt.date(2026, 6, 1)
    assert agenda.rule_date("dimanche", -1, 2026, 5) == dt.date(2026, 5, 31)


def planned_at(
    content: Content, at: dt.datetime, club_start: dt.datetime = CLUB
) -> list[reminders.PlannedReminder]:
    occurrence = Occurrence(club_start, club_start + dt.timedelta(hours=1), "au forum")
    reminder = content.club.reminders[0]
    return [reminders.PlannedReminder(f"{reminder.id}@x", reminder, occurrence, at)]


def test_a_reminder_is_due_from_its_exact_time(content: Content) -> None:
    at = CLUB - dt.timedelta(days=7)
    assert reminders.due(planned_at(content, at), at - TICK, GRACE).post == []
    assert len(reminders.due(planned_at(content, at), at, GRACE).post) == 1
    assert len(reminders.due(planned_at(content, at), at + TICK, GRACE).post) == 1


def test_a_reminder_is_posted_up_to_the_grace_period_then_skipped(content: Content) -> None:
    at = CLUB - dt.timedelta(days=7)
    plan = planned_at(content, at)
    last = reminders.due(plan, at + GRACE, GRACE)
    assert (len(last.post), last.skip) == (1, [])
    missed = reminders.due(plan, at + GRACE + TICK, GRACE)
    assert (missed.post, len(missed.skip)) == ([], 1)


def test_a_missed_reminder_is_skipped_only_while_its_club_is_ahead(content: Content) -> None:
    """Once the club itself is older than the grace period, there is nothing left to record."""
    at = CLUB - dt.timedelta(hours=7)
    plan = planned_at(content, at)
    now = CLUB + GRACE  # the club starts exactly at now - grace: already past
    assert reminders.due(plan, now, GRACE).skip == []
    assert len(reminders.due(plan, now - TICK, GRACE).skip) == 1


def test_a_reminder_not_yet_due_is_neither_posted_nor_skipped(content: Content) -> None:
    at = CLUB - dt.timedelta(days=1)
    decision = reminders.due(planned_at(content, at), at - dt.timedelta(days=3), GRACE)
    assert (decision.post, decision.skip) == ([], [])


def test_an_exception_on_the_usual_day_is_not_a_move() -> None:
    noted = Schedule.model_validate(
        {
            **SCHEDULE.model_dump(mode="json"),
            "exceptions": [{"date": "2026-12-03", "place": "en salle 2", "note": "Salle 2"}],
        }
    )
    [club] = agenda.from_rule(noted, CLUB, CLUB + TICK)
    assert (club.start, club.moved_from, club.note, club.place) == (
        CLUB,
        None,
        "Salle 2",
        "en salle 2",
    )
    [usual] = agenda.from_rule(SCHEDULE, CLUB, CLUB + TICK)
    assert (usual.place, usual.note, usual.moved_from) == ("au forum", "", None)


def test_a_reminder_time_is_given_in_the_club_zone(content: Content) -> None:
    occurrence = Occurrence(CLUB, CLUB + dt.timedelta(hours=1), "au forum")
    for item in reminders.plan(content.club, [occurrence]):
        assert item.at.tzinfo == PARIS, item.key
