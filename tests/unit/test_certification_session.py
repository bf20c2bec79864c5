"""The certification's published session: validated for editors, and what a subscriber is
told when (the announcement, then the deadline's reminder). Pure."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.content.certification import CertificationSession
from bot.subscriptions.certification_notices import ANNOUNCE, DEADLINE, due_message, notice_text

PARIS = ZoneInfo("Europe/Paris")
SESSION = CertificationSession(
    title="Session de mai 2027",
    starts=dt.date(2027, 5, 10),
    ends=dt.date(2027, 5, 28),
    signup_url="https://inscription.example/certif",
    deadline=dt.date(2027, 4, 30),
)


def at(day: int, month: int = 4, hour: int = 12) -> dt.datetime:
    return dt.datetime(2027, month, day, hour, tzinfo=PARIS)


def test_the_announcement_then_the_reminder_three_days_before_then_nothing() -> None:
    assert due_message(SESSION, at(1), 3, PARIS) == ANNOUNCE
    assert due_message(SESSION, at(27, hour=9), 3, PARIS) == ANNOUNCE
    assert due_message(SESSION, at(27, hour=10), 3, PARIS) == DEADLINE
    assert due_message(SESSION, at(30, hour=23), 3, PARIS) == DEADLINE
    assert due_message(SESSION, at(1, month=5, hour=0), 3, PARIS) is None


def test_the_texts_give_the_dates_the_link_and_how_to_stop() -> None:
    announce = notice_text(SESSION, ANNOUNCE, dt.date(2027, 4, 1)).replace("\u00a0", " ")
    assert "Session de mai 2027" in announce and "lundi 10 mai 2027" in announce
    assert "vendredi 28 mai 2027" in announce and "vendredi 30 avril 2027" in announce
    assert "https://inscription.example/certif" in announce
    assert "`/intra certification stop`" in announce
    reminder = notice_text(SESSION, DEADLINE, dt.date(2027, 4, 27)).replace("\u00a0", " ")
    assert "dans 3 jours" in reminder and "https://inscription.example/certif" in reminder


def test_a_session_whose_dates_contradict_each_other_is_refused_in_french() -> None:
    fields = SESSION.model_dump()
    with pytest.raises(ValidationError, match="doit être après son début"):
        CertificationSession.model_validate({**fields, "ends": dt.date(2027, 5, 1)})
    with pytest.raises(ValidationError, match="date limite d'inscription"):
        CertificationSession.model_validate({**fields, "deadline": dt.date(2027, 6, 1)})
    with pytest.raises(ValidationError, match="https://"):
        CertificationSession.model_validate({**fields, "signup_url": "inscription"})
