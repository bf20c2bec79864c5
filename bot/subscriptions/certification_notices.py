"""The certification's personal messages: what is due when, their keys and texts. Pure.

When editors publish a session (`session:` in content/certification.yaml), each subscriber
gets its announcement once; `reminder_days` before the sign-up deadline, one reminder. A
person who subscribes after the reminder's time gets the reminder only (it carries the
link too). Keys name the session (its start), the message and the person.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot import french
from bot.content.certification import CertificationSession
from bot.content.typography import french as typography
from bot.subscriptions.club_notices import person_digest
from bot.subscriptions.schema import CERTIFICATION
from bot.subscriptions.texts import STOP_LINES

CERTIFICATION_NOTICE = "subscriptions.certification_notice"
ANNOUNCE, DEADLINE = "announce", "deadline"
# The reminder goes at this hour, `reminder_days` before the deadline.
REMINDER_HOUR = dt.time(10, 0)


def deadline_end(session: CertificationSession, zone: ZoneInfo) -> dt.datetime:
    """The end of the last day to sign up."""
    return dt.datetime.combine(session.deadline + dt.timedelta(days=1), dt.time(0), tzinfo=zone)


def reminder_time(session: CertificationSession, days: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(session.deadline - dt.timedelta(days=days), REMINDER_HOUR, zone)


def due_message(
    session: CertificationSession, now: dt.datetime, days: int, zone: ZoneInfo
) -> str | None:
    """Which message a subscriber not told yet gets now: the announcement, the deadline's
    reminder, or None once sign-up has closed."""
    if now >= deadline_end(session, zone):
        return None
    return DEADLINE if now >= reminder_time(session, days, zone) else ANNOUNCE


def notice_key(platform: str, user_id: str, session_key: str, message: str) -> str:
    return f"subscription:certification:{session_key}:{message}:{person_digest(platform, user_id)}"


def notice_text(session: CertificationSession, message: str, today: dt.date) -> str:
    dates = f"du {french.day(session.starts, year=True)}"
    if session.ends is not None and session.ends != session.starts:
        dates += f" au {french.day(session.ends, year=True)}"
    deadline = french.day(session.deadline, year=True)
    if message == ANNOUNCE:
        head = (
            f"🎓 **Certification des intras : une session est ouverte** ({session.title}, {dates})."
        )
        body = f"Inscriptions jusqu'au {deadline} : {session.signup_url}"
    else:
        left = french.relative_day(today, session.deadline)
        head = f"⏳ **Certification : inscriptions jusqu'au {deadline}** ({left})."
        body = f"{session.title}, {dates}. S'inscrire : {session.signup_url}"
    return typography(f"{head}\n{body}\n\n{STOP_LINES[CERTIFICATION]}")
