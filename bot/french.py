"""Dates and times written the French way: « jeudi 3 décembre », « 16 h », « 16 h 30 »."""

from __future__ import annotations

import datetime as dt

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def day(value: dt.date, *, year: bool = False) -> str:
    """« jeudi 3 décembre », « mercredi 1er octobre » (with the year if asked)."""
    number = "1er" if value.day == 1 else str(value.day)
    text = f"{WEEKDAYS[value.weekday()]} {number} {MONTHS[value.month - 1]}"
    return f"{text} {value.year}" if year else text


def hour(value: dt.time | dt.datetime) -> str:
    """« 16 h », « 9 h 30 »."""
    return f"{value.hour} h" if value.minute == 0 else f"{value.hour} h {value.minute:02d}"


def relative_day(today: dt.date, target: dt.date) -> str:
    """« aujourd'hui », « demain », « dans 7 jours »."""
    days = (target - today).days
    if days == 0:
        return "aujourd'hui"
    if days == 1:
        return "demain"
    if days == 2:
        return "après-demain"
    return f"dans {days} jours"
