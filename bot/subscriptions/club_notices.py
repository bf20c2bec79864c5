"""The club's personal notice: when it is due for an occurrence, its key, its text. Pure.

A subscriber gets one DM per club occurrence, `before` it, as the content's reminders
count: whole days on the calendar, at the hour `at` in the club's time zone (« 1j » at
« 17:00 »: the day before at 17 h); the rest is elapsed time (« 2min »: two minutes
before the start).
The outbox key names the person, the platform and the occurrence's stable key, so the
notice is queued once whatever the restarts and replicas.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot import french
from bot.club.agenda import Occurrence
from bot.content.schedule import ClubTopic
from bot.content.typography import french as typography
from bot.subscriptions.schema import CLUB
from bot.subscriptions.texts import STOP_LINES

# The outbox kind of a club notice.
CLUB_NOTICE = "subscriptions.club_notice"
# The outbox kind of the message telling a subscriber their club moved or was cancelled.
CLUB_CHANGE = "subscriptions.club_change"


@dataclass(frozen=True)
class NoticeTiming:
    before: dt.timedelta
    at: dt.time | None  # the hour on the day, with whole days; None: the club's own hour


def notice_time(occurrence: Occurrence, timing: NoticeTiming, zone: ZoneInfo) -> dt.datetime:
    """When the notice of `occurrence` is due (aware)."""
    days = dt.timedelta(days=timing.before.days)
    rest = timing.before - days
    start = occurrence.start.astimezone(zone)
    wall = timing.at or start.timetz().replace(tzinfo=None)
    local = dt.datetime.combine(start.date() - days, wall, tzinfo=zone)
    # Aware arithmetic within one zone is wall-clock arithmetic: subtract the rest in UTC.
    return (local.astimezone(dt.UTC) - rest).astimezone(zone)


def due(
    occurrences: list[Occurrence],
    now: dt.datetime,
    timing: NoticeTiming,
    zone: ZoneInfo,
    grace: dt.timedelta,
) -> list[Occurrence]:
    """The occurrences whose notice is due now: its time has come by less than `grace`,
    and the club has not started."""
    return [
        occurrence
        for occurrence in occurrences
        if notice_time(occurrence, timing, zone) <= now < occurrence.start
        and now - notice_time(occurrence, timing, zone) <= grace
    ]


def person_digest(platform: str, user_id: str) -> str:
    """A short stable name for a person on a platform (a Matrix id may be 255 characters)."""
    return hashlib.sha256(f"{platform}\n{user_id}".encode()).hexdigest()[:20]


def notice_key(platform: str, user_id: str, occurrence_key: str) -> str:
    return f"subscription:club:{occurrence_key}:{person_digest(platform, user_id)}"


def notice_text(occurrence: Occurrence, club: ClubTopic, calendar_url: str, today: dt.date) -> str:
    """The DM: when (date, hour, relative day), where and how to join, the calendar link,
    and how to stop."""
    zone = ZoneInfo(club.schedule.timezone)
    start = occurrence.start.astimezone(zone)
    end = occurrence.end.astimezone(zone)
    when = french.relative_day(today, start.date())
    lines = [
        f"⏰ **Club intras {when}** : {french.day(start.date())} de {french.hour(start)} "
        f"à {french.hour(end)}.",
    ]
    if occurrence.moved_from is not None:
        lines.append(
            f"Attention, date inhabituelle (au lieu du {french.day(occurrence.moved_from)})."
        )
    if occurrence.note:
        lines.append(occurrence.note)
    lines.append(
        f"**Pour y participer** : {occurrence.place}. L'agenda de la communauté : {club.agenda_url}"
    )
    if calendar_url:
        lines.append(f"📅 **Ajouter à votre agenda** : {calendar_url}")
    lines.extend(["", STOP_LINES[CLUB]])
    return typography("\n".join(lines))


def change_key(
    platform: str, user_id: str, occurrence_key: str, told: dt.datetime, told_at: dt.datetime
) -> str:
    """One change message per person and what they were told (the start `told`, when)."""
    state = f"{int(told.timestamp())}-{int(told_at.timestamp())}"
    return f"subscription:club-change:{occurrence_key}:{state}:{person_digest(platform, user_id)}"


def moved_text(occurrence: Occurrence, was: dt.datetime, club: ClubTopic, calendar_url: str) -> str:
    zone = ZoneInfo(club.schedule.timezone)
    start, end = occurrence.start.astimezone(zone), occurrence.end.astimezone(zone)
    before = was.astimezone(zone)
    lines = [
        f"📅 **Le club intras change de date** : {french.day(start.date())} de "
        f"{french.hour(start)} à {french.hour(end)} (au lieu du {french.day(before.date())} "
        f"à {french.hour(before)}).",
        f"**Pour y participer** : {occurrence.place}. L'agenda de la communauté : {club.agenda_url}",
    ]
    if calendar_url:
        lines.append(f"📅 **Votre agenda, mis à jour** : {calendar_url}")
    lines.extend(["", STOP_LINES[CLUB]])
    return typography("\n".join(lines))


def cancelled_text(was: dt.datetime, club: ClubTopic, calendar_url: str) -> str:
    before = was.astimezone(ZoneInfo(club.schedule.timezone))
    lines = [
        f"❌ **Le club intras du {french.day(before.date())} à {french.hour(before)} est annulé.**",
        f"L'agenda de la communauté : {club.agenda_url}",
    ]
    if calendar_url:
        lines.append(f"Pour le retirer de votre agenda : {calendar_url}")
    lines.extend(["", STOP_LINES[CLUB]])
    return typography("\n".join(lines))
