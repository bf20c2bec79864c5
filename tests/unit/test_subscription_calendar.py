"""A subscriber's calendar invitation: one event, the agenda's UID, updated or cancelled."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar

from bot.club.agenda import Occurrence, to_ics
from bot.subscriptions.calendar import cancellation, invitation

PARIS = ZoneInfo("Europe/Paris")
START = dt.datetime(2026, 12, 3, 16, 0, tzinfo=PARIS)
NOW = dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.UTC)


def _event(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return calendar, events[0]


def test_the_invitation_is_one_event_with_the_club_agendas_uid() -> None:
    occurrence = Occurrence(START, START + dt.timedelta(hours=1), "au forum", planned=True)
    calendar, event = _event(invitation(occurrence, agenda_url="https://agenda", now=NOW))
    assert str(calendar["METHOD"]) == "REQUEST"
    assert event.decoded("dtstart") == START
    assert event.decoded("dtend") == START + dt.timedelta(hours=1)
    assert str(event["LOCATION"]) == "au forum"
    assert "https://agenda" in str(event["DESCRIPTION"])
    _, agenda_event = _event(to_ics([occurrence], name="Club intras", url="https://agenda"))
    assert str(event["UID"]) == str(agenda_event["UID"])
    assert int(event["SEQUENCE"]) >= 0


def test_a_moved_club_keeps_its_uid_with_a_higher_sequence_and_a_cancelled_one_cancels() -> None:
    usual = Occurrence(START, START + dt.timedelta(hours=1), "au forum", planned=True)
    later = START + dt.timedelta(days=1)
    moved = Occurrence(later, later + dt.timedelta(hours=1), "ailleurs", moved_from=START.date())
    assert moved.key == usual.key
    _, first = _event(invitation(usual, agenda_url="https://agenda", now=NOW))
    later_now = NOW + dt.timedelta(seconds=1)
    _, second = _event(invitation(moved, agenda_url="https://agenda", now=later_now))
    assert str(second["UID"]) == str(first["UID"])
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])
    assert second.decoded("dtstart") == later
    calendar, cancelled = _event(cancellation(usual.key, START, now=later_now))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["UID"]) == str(first["UID"])
    assert int(cancelled["SEQUENCE"]) > int(second["SEQUENCE"])
