"""The dates of invitation messages: in the configured zone unless the caller gives another."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.config import DEFAULT_TIMEZONE
from bot.invitations.texts import french_date

MOMENT = dt.datetime(2026, 3, 26, 8, 30, tzinfo=dt.UTC)


def test_the_default_zone_is_the_configured_one() -> None:
    assert DEFAULT_TIMEZONE == "Europe/Paris"
    assert french_date(MOMENT) == "jeudi 26 mars à 9 h 30"


def test_another_zone_shows_its_own_wall_clock() -> None:
    assert french_date(MOMENT, ZoneInfo("America/Cayenne")) == "jeudi 26 mars à 5 h 30"
