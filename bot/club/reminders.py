"""Which club reminder is due when, and its text. Pure: the clock is an argument.

A reminder occurrence has a stable key, « <reminder id>@<club key> », which the
store uses to post it exactly once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot import french
from bot.club.agenda import Occurrence
from bot.content.schedule import ClubTopic, Reminder


@dataclass(frozen=True)
class PlannedReminder:
    key: str
    reminder: Reminder
    occurrence: Occurrence
    at: dt.datetime  # aware

    @property
    def channel(self) -> str:
        return self.reminder.channel


def reminder_time(reminder: Reminder, occurrence: Occurrence, zone: ZoneInfo) -> dt.datetime:
    """When to post: whole days are counted on the calendar, in wall-clock time.

    « 7j à 9:30 » before a club on Thursday 2 April is Thursday 26 March at 9:30
    Paris time, whichever side of the daylight-saving change each falls on.
    The rest (« 1h », « 90s ») is elapsed time: « 1h » is one real hour before,
    even across the change.
    """
    offset = reminder.offset
    days = dt.timedelta(days=offset.days)
    rest = offset - days
    local_start = occurrence.start.astimezone(zone)
    day = local_start.date() - days
    wall = reminder.at or local_start.timetz().replace(tzinfo=None)
    # Aware arithmetic within one zone is wall-clock arithmetic: subtract the rest in UTC.
    local = dt.datetime.combine(day, wall, tzinfo=zone)
    return (local.astimezone(dt.UTC) - rest).astimezone(zone)


def plan(club: ClubTopic, occurrences: list[Occurrence]) -> list[PlannedReminder]:
    """Every reminder of every occurrence, in posting order."""
    zone = ZoneInfo(club.schedule.timezone)
    planned = [
        PlannedReminder(
            f"{reminder.id}@{occurrence.key}",
            reminder,
            occurrence,
            reminder_time(reminder, occurrence, zone),
        )
        for occurrence in occurrences
        for reminder in club.reminders
    ]
    return sorted(planned, key=lambda item: (item.at, item.key))


@dataclass(frozen=True)
class DueReminders:
    post: list[PlannedReminder]
    skip: list[PlannedReminder]  # missed by more than the grace period


def due(planned: list[PlannedReminder], now: dt.datetime, grace: dt.timedelta) -> DueReminders:
    """What to post now, and what was missed for too long to be posted at all."""
    post = [item for item in planned if now - grace <= item.at <= now]
    skip = [
        item for item in planned if item.at < now - grace and item.occurrence.start > now - grace
    ]
    return DueReminders(post, skip)


def render(item: PlannedReminder, club: ClubTopic, *, subscribe_url: str = "") -> str:
    zone = ZoneInfo(club.schedule.timezone)
    start = item.occurrence.start.astimezone(zone)
    note = item.occurrence.note
    if item.occurrence.moved_from is not None:
        moved = (
            f"Attention, date inhabituelle (au lieu du {french.day(item.occurrence.moved_from)})."
        )
        note = f"{moved} {note}".strip()
    return (
        club.reminders[club.reminders.index(item.reminder)]
        .template.format(
            date=french.day(start.date()),
            heure=french.hour(start),
            fin=french.hour(item.occurrence.end.astimezone(zone)),
            lieu=item.occurrence.place,
            agenda=club.agenda_url,
            note=f" {note}" if note else "",
            quand=french.relative_day(item.at.astimezone(zone).date(), start.date()),
            abonnement=subscribe_url or club.agenda_url,
        )
        .strip()
    )
