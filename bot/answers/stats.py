"""`/intra stats [jours]` for the referents: questions per topic, unanswered count,
invitation figures, over a period (30 days by default)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from bot import french
from bot.answers.question_log import Figures, QuestionLog
from bot.chat import Message, Reply, Visibility
from bot.content.typography import french as typography
from bot.invitations.records import ACCEPTED, DECLINED, PENDING, invitations
from bot.store import Store

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class InvitationFigures:
    received: int
    accepted: int
    declined: int
    pending_now: int


def invitation_figures(store: Store, since: dt.datetime, until: dt.datetime) -> InvitationFigures:
    created = (invitations.c.created_at >= since, invitations.c.created_at < until)
    decided = (invitations.c.decided_at >= since, invitations.c.decided_at < until)
    count = select(func.count()).select_from(invitations)
    with store.engine.connect() as connection:
        received = connection.execute(count.where(*created)).scalar_one()
        accepted = connection.execute(
            count.where(*decided, invitations.c.state == ACCEPTED)
        ).scalar_one()
        declined = connection.execute(
            count.where(*decided, invitations.c.state == DECLINED)
        ).scalar_one()
        pending = connection.execute(count.where(invitations.c.state == PENDING)).scalar_one()
    return InvitationFigures(int(received), int(accepted), int(declined), int(pending))


class StatsService:
    def __init__(
        self,
        log: QuestionLog,
        is_referent: Callable[[Message], Awaitable[bool]],
        clock: Callable[[], dt.datetime],
        *,
        before_reading: Callable[[], Awaitable[None]] | None = None,
        subscriptions: Callable[[], dict[str, int]] | None = None,
    ) -> None:
        self.log = log
        self.is_referent = is_referent
        self.clock = clock
        # Questions are written in batches: the figures include the last second's.
        self.before_reading = before_reading
        # The number of active personal subscriptions per kind (never who).
        self.subscriptions = subscriptions

    async def reply(self, message: Message, rest: str) -> Reply:
        # Referents only, and only the asker sees it: the same rule as `/intra demandes`.
        if not await self.is_referent(message):
            return Reply(
                "Les statistiques sont réservées aux référentes des intras.",
                visibility=Visibility.ASKER,
            )
        days = _days(rest)
        if days is None:
            return Reply(
                typography(
                    f"Indiquez une période en jours, de 1 à {MAX_DAYS} : par exemple `/intra stats 90`."
                ),
                visibility=Visibility.ASKER,
            )
        until = self.clock()
        since = until - dt.timedelta(days=days)
        if self.before_reading is not None:
            await self.before_reading()
        figures = await asyncio.to_thread(self.log.figures, since, until)
        joins = await asyncio.to_thread(invitation_figures, self.log.store, since, until)
        text = stats_text(figures, joins, since.date(), until.date(), days)
        if self.subscriptions is not None:
            counts = await asyncio.to_thread(self.subscriptions)
            text += "\n" + subscriptions_line(counts)
        return Reply(text, visibility=Visibility.ASKER)


def stats_text(
    figures: Figures, joins: InvitationFigures, start: dt.date, end: dt.date, days: int
) -> str:
    lines = [
        f"**Statistiques des {days} derniers jours** "
        f"(du {french.day(start, year=True)} au {french.day(end, year=True)})",
        "",
        f"- Questions posées : {figures.questions}, dont {figures.unanswered} sans réponse sûre "
        "(les lire : `intra-bot unanswered`)",
    ]
    if figures.per_topic:
        topics = " · ".join(f"{topic or '—'} {count}" for topic, count in figures.per_topic)
        lines.append(f"- Par sujet : {topics}")
    lines.append(
        f"- Demandes d'accès au canal privé : {joins.received} reçues, {joins.accepted} acceptées, "
        f"{joins.declined} refusées ; {joins.pending_now} en attente aujourd'hui"
    )
    return typography("\n".join(lines))


def subscriptions_line(counts: dict[str, int]) -> str:
    """Active personal reminders per kind, today (how many, never who)."""
    club, certification = counts.get("club", 0), counts.get("certification", 0)
    return typography(
        f"- Rappels personnels actifs aujourd'hui : club {club}, certification {certification}"
    )


def _days(rest: str) -> int | None:
    word = rest.strip().split(" ", 1)[0].removesuffix("j") if rest.strip() else ""
    if not word:
        return DEFAULT_DAYS
    if not word.isdigit() or not 1 <= int(word) <= MAX_DAYS:
        return None
    return int(word)
