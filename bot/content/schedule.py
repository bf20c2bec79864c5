"""The club topic's models: its schedule (rule, exceptions, feed) and its reminders.

Apart from the other topics because only the club has a calendar. Validation
messages are in French, like the rest of `bot.content.models`.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, model_validator

from bot.config import DEFAULT_TIMEZONE
from bot.content.models import Slug, Strict, Text, Topic, Url

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
Weekday = Literal["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
TEMPLATE_FIELDS = ("date", "heure", "fin", "lieu", "agenda", "note", "quand", "abonnement")
_DURATION = re.compile(
    r"^\s*(?:(\d+)\s*j)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*min)?\s*(?:(\d+)\s*s)?\s*$"
)


def parse_duration(text: str) -> dt.timedelta:
    """« 7j », « 1h », « 1h30min », « 90s » -> dt.timedelta (j = jours)."""
    match = _DURATION.match(text)
    if not match or not any(match.groups()):
        raise ValueError(
            f"« {text} » : durée invalide — écrivez par exemple « 7j », « 1j », « 1h », « 30min »"
        )
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


class Rule(Strict):
    """The usual date: the `week`-th `weekday` of each month (-1: the last one)."""

    weekday: Weekday
    week: Literal[1, 2, 3, 4, -1] = 1
    start: dt.time
    end: dt.time

    @model_validator(mode="after")
    def _ordered(self) -> Rule:
        if self.end <= self.start:
            raise ValueError("l'heure de fin (end) doit être après l'heure de début (start)")
        return self


class ScheduleException(Strict):
    """A month that differs from the rule: moved (date, times, place) or cancelled."""

    date: dt.date = Field(description="the date the rule gives for that month")
    cancelled: bool = False
    moved_to: dt.date | None = None
    start: dt.time | None = None
    end: dt.time | None = None
    place: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _meaningful(self) -> ScheduleException:
        changes = (self.moved_to, self.start, self.end, self.place)
        if self.cancelled and any(change is not None for change in changes):
            raise ValueError("une date annulée (cancelled: true) ne peut pas aussi être déplacée")
        if not self.cancelled and all(change is None for change in changes):
            raise ValueError(
                "cette exception ne change rien : ajoutez « cancelled: true » ou « moved_to », « start », « place »…"
            )
        return self


class Feed(Strict):
    """An iCalendar feed whose matching events replace the rule."""

    url: Url
    match: Text = Field(description="regular expression on the event's title")

    @model_validator(mode="after")
    def _valid_pattern(self) -> Feed:
        try:
            re.compile(self.match)
        except re.error as error:
            raise ValueError(f"« match » n'est pas une expression valide ({error})") from None
        return self


class Schedule(Strict):
    timezone: str = DEFAULT_TIMEZONE
    rule: Rule
    place: Text
    exceptions: list[ScheduleException] = Field(default_factory=list)
    feed: Feed | None = None

    @model_validator(mode="after")
    def _known_zone(self) -> Schedule:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"fuseau horaire inconnu « {self.timezone} » (exemple : {DEFAULT_TIMEZONE})"
            ) from None
        dates = [exception.date for exception in self.exceptions]
        if len(dates) != len(set(dates)):
            raise ValueError("deux exceptions portent sur la même date")
        return self


class Reminder(Strict):
    """A message posted `before` each club (at the wall-clock time `at`, if given)."""

    id: Slug
    before: Text
    at: dt.time | None = None
    channel: Slug
    template: Text

    @model_validator(mode="after")
    def _valid(self) -> Reminder:
        offset = parse_duration(self.before)
        if self.at is not None and offset % dt.timedelta(days=1):
            raise ValueError("avec « at », « before » doit être un nombre de jours (ex. « 7j »)")
        for _, field_name, _, _ in string.Formatter().parse(self.template):
            if field_name is not None and field_name not in TEMPLATE_FIELDS:
                raise ValueError(
                    f"le modèle utilise {{{field_name}}}, inconnu — champs possibles : "
                    + ", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS)
                )
        return self

    @property
    def offset(self) -> dt.timedelta:
        return parse_duration(self.before)


class ClubTopic(Topic):
    rhythm: Text = Field(description="how often and when, in words")
    agenda_url: Url
    schedule: Schedule
    reminders: list[Reminder] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_reminders(self) -> ClubTopic:
        ids = [reminder.id for reminder in self.reminders]
        if len(ids) != len(set(ids)):
            raise ValueError("deux rappels ont le même « id »")
        return self
