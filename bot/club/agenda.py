"""Club dates: the rule and its exceptions, or an iCalendar feed. Pure: time is an argument.

All wall-clock times are in the schedule's time zone (Europe/Paris): « 16:00 » stays
16:00 across the daylight-saving changes; instants are aware datetimes.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.content.schedule import WEEKDAYS, Schedule, ScheduleException

# How far ahead the feed and the ICS export look.
HORIZON = dt.timedelta(days=400)


class FeedError(Exception):
    """The iCalendar feed cannot be used; the message is for operators."""


@dataclass(frozen=True)
class Occurrence:
    start: dt.datetime  # aware, in the schedule's zone
    end: dt.datetime
    place: str
    note: str = ""
    moved_from: dt.date | None = None  # the rule's date, when this one was moved
    source: str = "rule"  # "rule" or "feed"
    uid: str = ""
    # Computed from the usual rule alone: a plan the community's agenda may change. A date
    # from the feed or from an exception an editor wrote down is a known date.
    planned: bool = False

    @property
    def key(self) -> str:
        """Stable across restarts and content edits of the time: the month's identity."""
        if self.source == "feed" and self.uid:
            return f"feed:{self.uid}:{self.start.date().isoformat()}"
        return (self.moved_from or self.start.date()).isoformat()


def rule_date(weekday: str, week: int, year: int, month: int) -> dt.date:
    """The `week`-th `weekday` of the month (week -1: the last one)."""
    target = WEEKDAYS.index(weekday)
    days = [
        day
        for day in calendar.Calendar().itermonthdates(year, month)
        if day.month == month and day.weekday() == target
    ]
    return days[week - 1] if week > 0 else days[-1]


def from_rule(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
    """The occurrences the rule and its exceptions give, starting in [start, end)."""
    zone = ZoneInfo(schedule.timezone)
    exceptions = {exception.date: exception for exception in schedule.exceptions}
    found: list[Occurrence] = []
    year, month = (start.astimezone(zone) - dt.timedelta(days=45)).timetuple()[:2]
    last = (end.astimezone(zone) + dt.timedelta(days=45)).date()
    while (year, month) <= (last.year, last.month):
        usual = rule_date(schedule.rule.weekday, schedule.rule.week, year, month)
        occurrence = _apply(schedule, usual, exceptions.get(usual), zone)
        if occurrence is not None and start <= occurrence.start < end:
            found.append(occurrence)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return sorted(found, key=lambda occurrence: occurrence.start)


def _apply(
    schedule: Schedule, usual: dt.date, exception: ScheduleException | None, zone: ZoneInfo
) -> Occurrence | None:
    rule = schedule.rule
    if exception is None:
        return Occurrence(
            _at(usual, rule.start, zone), _at(usual, rule.end, zone), schedule.place, planned=True
        )
    if exception.cancelled:
        return None
    day = exception.moved_to or usual
    return Occurrence(
        start=_at(day, exception.start or rule.start, zone),
        end=_at(day, exception.end or rule.end, zone),
        place=exception.place or schedule.place,
        note=exception.note,
        moved_from=usual if day != usual else None,
    )


def _at(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    # fold=0: a wall time that happens twice (October) means the first one.
    return dt.datetime.combine(day, time, tzinfo=zone)


def from_feed(
    ics: str | bytes, schedule: Schedule, start: dt.datetime, end: dt.datetime
) -> list[Occurrence]:
    """The feed's events whose title matches the schedule's pattern, recurrences expanded."""
    import icalendar
    import recurring_ical_events

    assert schedule.feed is not None
    pattern = re.compile(schedule.feed.match)
    zone = ZoneInfo(schedule.timezone)
    try:
        calendar_ = icalendar.Calendar.from_ical(ics)
        events = recurring_ical_events.of(calendar_).between(start, end)
    except Exception as error:  # the library raises many types for a bad file
        raise FeedError(f"invalid iCalendar feed: {error.__class__.__name__}: {error}") from None
    found = []
    for event in events:
        title = str(event.get("SUMMARY", ""))
        if not pattern.search(title):
            continue
        begin = _aware(event.get("DTSTART").dt, zone)
        finish = (
            _aware(event.get("DTEND").dt, zone)
            if event.get("DTEND")
            else begin + dt.timedelta(hours=1)
        )
        found.append(
            Occurrence(
                start=begin,
                end=finish,
                place=str(event.get("LOCATION", "") or schedule.place),
                note="",
                source="feed",
                uid=str(event.get("UID", "")),
            )
        )
    return sorted(found, key=lambda occurrence: occurrence.start)


def _aware(value: dt.date | dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(0), tzinfo=zone)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def upcoming(occurrences: list[Occurrence], now: dt.datetime, count: int) -> list[Occurrence]:
    """The next `count` occurrences not yet over at `now`."""
    return [occurrence for occurrence in occurrences if occurrence.end > now][:count]


def to_ics(occurrences: list[Occurrence], *, name: str, url: str) -> bytes:
    """An iCalendar file of the occurrences, for calendar subscriptions."""
    import icalendar

    calendar_ = icalendar.Calendar()
    calendar_.add("prodid", "-//beta.gouv.fr//intra-bot//FR")
    calendar_.add("version", "2.0")
    calendar_.add("x-wr-calname", name)
    for occurrence in occurrences:
        event = icalendar.Event()
        event.add("uid", f"club-intras-{occurrence.key}@intra-bot")
        event.add("summary", name)
        event.add("dtstart", occurrence.start)
        event.add("dtend", occurrence.end)
        event.add("dtstamp", occurrence.start)
        event.add("location", occurrence.place)
        description = (occurrence.note + "\n" if occurrence.note else "") + f"Agenda : {url}"
        event.add("description", description)
        calendar_.add_component(event)
    return bytes(calendar_.to_ical())
