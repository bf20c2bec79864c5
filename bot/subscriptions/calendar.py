"""One club occurrence as an iCalendar invitation (METHOD:REQUEST), or its cancellation
(METHOD:CANCEL). Pure.

The event's UID is the club agenda's own (`/club.ics`, bot/club/agenda.py): a calendar
that imported either finds the same event. SEQUENCE grows with the time of the
file's making, in seconds: the event as it is now always supersedes what a calendar
imported earlier (a club moved since is updated there, a cancelled one removed), and a
cancellation supersedes an invitation made the same second.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bot.club.agenda import Occurrence

if TYPE_CHECKING:  # imported when a calendar is made: `intra-bot ask` never needs it
    import icalendar

PRODID = "-//beta.gouv.fr//intra-bot//FR"
SUMMARY = "Club intras"
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def sequence(now: dt.datetime) -> int:
    """Seconds since 2026: grows with each later version of the file, fits 32 bits."""
    return max(0, int((now - EPOCH).total_seconds()))


def event_uid(occurrence_key: str) -> str:
    return f"club-intras-{occurrence_key}@intra-bot"


def invitation(occurrence: Occurrence, *, agenda_url: str, now: dt.datetime) -> bytes:
    """A calendar with the one event, to add or update."""
    import icalendar

    calendar = _calendar("REQUEST")
    event = icalendar.Event()
    event.add("uid", event_uid(occurrence.key))
    event.add("sequence", sequence(now))
    event.add("status", "CONFIRMED")
    event.add("summary", SUMMARY)
    event.add("dtstart", occurrence.start)
    event.add("dtend", occurrence.end)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("location", occurrence.place)
    event.add("organizer", "mailto:contact@beta.gouv.fr", parameters={"CN": "beta.gouv.fr"})
    description = (occurrence.note + "\n" if occurrence.note else "") + f"Agenda : {agenda_url}"
    event.add("description", description)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def cancellation(occurrence_key: str, start: dt.datetime, *, now: dt.datetime) -> bytes:
    """A calendar cancelling the event of `occurrence_key` (planned at `start`)."""
    import icalendar

    calendar = _calendar("CANCEL")
    event = icalendar.Event()
    event.add("uid", event_uid(occurrence_key))
    event.add("sequence", sequence(now) + 1)
    event.add("status", "CANCELLED")
    event.add("summary", f"{SUMMARY} (annulé)")
    event.add("dtstart", start)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("organizer", "mailto:contact@beta.gouv.fr", parameters={"CN": "beta.gouv.fr"})
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def _calendar(method: str) -> icalendar.Calendar:
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    return calendar
