"""Club dates: the rule over two years, exceptions, feeds, daylight saving. Pure functions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.club import agenda, reminders
from bot.club.agenda import FeedError
from bot.content.loader import Content
from bot.content.schedule import ClubTopic, Schedule

PARIS = ZoneInfo("Europe/Paris")


def schedule(**changes: object) -> Schedule:
    base = {
        "timezone": "Europe/Paris",
        "rule": {"weekday": "jeudi", "week": 1, "start": "16:00", "end": "17:00"},
        "place": "au forum",
    }
    return Schedule.model_validate({**base, **changes})


def window(start: str, end: str) -> tuple[dt.datetime, dt.datetime]:
    return (
        dt.datetime.fromisoformat(start).replace(tzinfo=PARIS),
        dt.datetime.fromisoformat(end).replace(tzinfo=PARIS),
    )


def test_rule_gives_the_first_thursday_of_every_month_for_two_years() -> None:
    found = agenda.from_rule(schedule(), *window("2026-01-01", "2028-01-01"))
    assert len(found) == 24
    for occurrence in found:
        assert occurrence.start.weekday() == 3 and occurrence.start.day <= 7
        assert (occurrence.start.hour, occurrence.end.hour) == (16, 17)
    assert found[0].start.date() == dt.date(2026, 1, 1)  # a Thursday the 1st counts
    assert found[-1].start.date() == dt.date(2027, 12, 2)


def test_last_weekday_rule() -> None:
    rule = {"weekday": "mardi", "week": -1, "start": "10:00", "end": "11:00"}
    found = agenda.from_rule(schedule(rule=rule), *window("2026-03-01", "2026-04-01"))
    assert [o.start.date() for o in found] == [dt.date(2026, 3, 31)]


def test_moved_and_cancelled_months() -> None:
    exceptions = [
        {"date": "2025-12-04", "moved_to": "2025-12-03", "note": "co-organisé"},
        {
            "date": "2025-03-06",
            "moved_to": "2025-03-04",
            "start": "14:00",
            "end": "15:30",
            "place": "à la DINUM",
        },
        {"date": "2025-08-07", "cancelled": True},
    ]
    found = agenda.from_rule(schedule(exceptions=exceptions), *window("2025-01-01", "2026-01-01"))
    dates = [o.start.date() for o in found]
    assert dt.date(2025, 8, 7) not in dates and len(found) == 11
    december = next(o for o in found if o.start.month == 12)
    assert december.start.date() == dt.date(2025, 12, 3)
    assert december.moved_from == dt.date(2025, 12, 4) and december.note == "co-organisé"
    march = next(o for o in found if o.start.month == 3)
    assert (march.start.hour, march.end.hour, march.end.minute) == (14, 15, 30)
    assert march.place == "à la DINUM"
    assert march.key == "2025-03-06"  # stable: the month's rule date


def test_only_dates_from_the_rule_alone_are_planned() -> None:
    exceptions = [
        {"date": "2026-02-05", "moved_to": "2026-02-04"},
        {"date": "2026-03-05", "place": "à Ségur"},
    ]
    found = agenda.from_rule(schedule(exceptions=exceptions), *window("2026-01-01", "2026-05-01"))
    planned = {o.start.date(): o.planned for o in found}
    # January and April: the rule only; February moved and March written down by an editor.
    assert planned == {
        dt.date(2026, 1, 1): True,
        dt.date(2026, 2, 4): False,
        dt.date(2026, 3, 5): False,
        dt.date(2026, 4, 2): True,
    }
    feed = agenda.from_feed(FEED, feed_schedule(), *window("2026-01-01", "2026-12-31"))
    assert feed and not any(o.planned for o in feed)


def test_clock_stays_on_the_wall_across_daylight_saving() -> None:
    # 2026: summer time starts Sunday 29 March, ends Sunday 25 October.
    found = agenda.from_rule(schedule(), *window("2026-03-01", "2026-11-30"))
    for occurrence in found:
        assert occurrence.start.astimezone(PARIS).hour == 16
    march, april = found[0], found[1]
    assert march.start.utcoffset() == dt.timedelta(hours=1)
    assert april.start.utcoffset() == dt.timedelta(hours=2)


@pytest.mark.parametrize(
    ("club_day", "expected_post"),
    [
        # a week before is on the other side of the change: still 9:30 on the wall
        ("2026-04-02", "2026-03-26T09:30"),
        ("2026-10-29", "2026-10-22T09:30"),
        ("2026-11-05", "2026-10-29T09:30"),
    ],
)
def test_reminder_a_week_before_keeps_its_wall_time(
    club_day: str, expected_post: str, content: Content
) -> None:
    club = content.club
    j7 = next(r for r in club.reminders if r.id == "j-7")
    day = dt.date.fromisoformat(club_day)
    occurrence = agenda.Occurrence(
        dt.datetime.combine(day, dt.time(16), tzinfo=PARIS),
        dt.datetime.combine(day, dt.time(17), tzinfo=PARIS),
        "au forum",
    )
    at = reminders.reminder_time(j7, occurrence, PARIS)
    assert at.astimezone(PARIS).replace(tzinfo=None) == dt.datetime.fromisoformat(expected_post)


def test_one_hour_before_is_an_hour_of_real_time(content: Content) -> None:
    h1 = next(r for r in content.club.reminders if r.id == "h-1")
    start = dt.datetime(2026, 10, 25, 3, 30, tzinfo=PARIS)  # the night the clocks go back
    occurrence = agenda.Occurrence(start, start + dt.timedelta(hours=1), "x")
    assert start - reminders.reminder_time(h1, occurrence, PARIS) == dt.timedelta(hours=1)


FEED = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//test//FR
BEGIN:VEVENT
UID:forum-mensuel@test
DTSTART;TZID=Europe/Paris:20260101T160000
DTEND;TZID=Europe/Paris:20260101T170000
RRULE:FREQ=MONTHLY;BYDAY=1TH;COUNT=6
EXDATE;TZID=Europe/Paris:20260305T160000
SUMMARY:Club intras
LOCATION:Ségur
END:VEVENT
BEGIN:VEVENT
UID:forum-mensuel@test
RECURRENCE-ID;TZID=Europe/Paris:20260402T160000
DTSTART;TZID=Europe/Paris:20260401T140000
DTEND;TZID=Europe/Paris:20260401T150000
SUMMARY:Club intras (décalé)
LOCATION:Ségur
END:VEVENT
BEGIN:VEVENT
UID:other@test
DTSTART;TZID=Europe/Paris:20260115T100000
DTEND;TZID=Europe/Paris:20260115T110000
SUMMARY:Club des devs
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n").encode()


def feed_schedule() -> Schedule:
    return schedule(feed={"url": "https://agenda.example/feed.ics", "match": "(?i)club intras"})


def test_feed_recurring_event_is_expanded_with_its_exceptions() -> None:
    found = agenda.from_feed(FEED, feed_schedule(), *window("2026-01-01", "2026-12-31"))
    dates = [o.start.astimezone(PARIS) for o in found]
    assert [d.date() for d in dates] == [
        dt.date(2026, 1, 1), dt.date(2026, 2, 5), dt.date(2026, 4, 1),
        dt.date(2026, 5, 7), dt.date(2026, 6, 4),
    ]  # fmt: skip
    assert dates[2].hour == 14  # the moved instance
    assert all(o.place == "Ségur" and o.source == "feed" for o in found)


def test_broken_feed_raises_a_feed_error() -> None:
    with pytest.raises(FeedError):
        agenda.from_feed(
            b"BEGIN:VCALENDAR\nthis is not ical",
            feed_schedule(),
            *window("2026-01-01", "2026-12-31"),
        )


def test_ics_export_parses_and_lists_the_dates(content: Content) -> None:
    now = dt.datetime(2026, 11, 28, 12, tzinfo=PARIS)
    upcoming = agenda.upcoming(
        agenda.from_rule(content.club.schedule, now, now + agenda.HORIZON), now, 3
    )
    parsed = icalendar.Calendar.from_ical(
        agenda.to_ics(upcoming, name="Club intras", url="https://a")
    )
    starts = [event.get("DTSTART").dt for event in parsed.walk("VEVENT")]
    assert [s.date() for s in starts] == [
        dt.date(2026, 12, 3),
        dt.date(2027, 1, 7),
        dt.date(2027, 2, 4),
    ]
    assert all(s.hour == 16 for s in starts)


def test_reminder_text_in_french(content: Content) -> None:
    club: ClubTopic = content.club
    occurrences = agenda.from_rule(club.schedule, *window("2025-12-01", "2025-12-31"))
    planned = reminders.plan(club, occurrences)
    j1 = next(p for p in planned if p.reminder.id == "j-1")
    text = reminders.render(j1, club)
    assert "Club intras demain" in text
    assert "mercredi 3 décembre à 16 h" in text
    assert "date inhabituelle (au lieu du jeudi 4 décembre)" in text
    assert club.agenda_url in text
    assert j1.at == dt.datetime(2025, 12, 2, 9, 30, tzinfo=PARIS)
    assert j1.key == "j-1@2025-12-04"


def test_due_posts_within_grace_and_skips_older(content: Content) -> None:
    club = content.club
    occurrences = agenda.from_rule(club.schedule, *window("2026-12-01", "2026-12-31"))
    planned = reminders.plan(club, occurrences)  # j-7 26/11 9:30, j-1 2/12 9:30, h-1 3/12 15:00
    now = dt.datetime(2026, 12, 2, 14, 0, tzinfo=PARIS)
    decision = reminders.due(planned, now, dt.timedelta(hours=6))
    assert [p.reminder.id for p in decision.post] == ["j-1"]
    assert [p.reminder.id for p in decision.skip] == ["j-7"]
    later = reminders.due(
        planned, dt.datetime(2026, 12, 2, 16, 0, tzinfo=PARIS), dt.timedelta(hours=6)
    )
    assert [p.reminder.id for p in later.post] == []
