"""`intra-bot club`: what the runner will do, computed by the same code, for editors (in French)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot import french
from bot.club import agenda, reminders
from bot.content.loader import Content


def preview(
    content: Content,
    *,
    count: int = 3,
    show_text: bool = False,
    public_url: str = "",
    now: dt.datetime | None = None,
) -> str:
    club = content.club
    zone = ZoneInfo(club.schedule.timezone)
    now = now or dt.datetime.now(dt.UTC)
    occurrences = agenda.upcoming(
        agenda.from_rule(club.schedule, now - dt.timedelta(days=1), now + agenda.HORIZON),
        now,
        count,
    )
    planned = reminders.plan(club, occurrences)
    subscribe = public_url.rstrip("/") + "/club.ics" if public_url else ""
    lines = []
    if club.schedule.feed is not None:
        lines.append(
            f"Un agenda iCalendar est configuré ({club.schedule.feed.url}) : le bot en service "
            "suit ses dates ; ci-dessous, les dates de la règle, utilisées s'il est injoignable."
        )
    for occurrence in occurrences:
        start, end = occurrence.start.astimezone(zone), occurrence.end.astimezone(zone)
        head = f"{french.day(start.date(), year=True)}, {french.hour(start)}–{french.hour(end)}, {occurrence.place}"
        if occurrence.planned:
            head += " (prévu)"
        if occurrence.moved_from:
            head += f" (déplacé, au lieu du {french.day(occurrence.moved_from)})"
        if occurrence.note:
            head += f" — {occurrence.note}"
        lines.append(head)
        for item in (p for p in planned if p.occurrence == occurrence):
            at = item.at.astimezone(zone)
            status = "" if item.at > now else " (déjà passé)"
            lines.append(
                f"  rappel « {item.reminder.id} » : {french.day(at.date())} à {french.hour(at)}"
                f" dans ~{item.channel}{status}"
            )
            if show_text:
                text = reminders.render(item, club, subscribe_url=subscribe)
                lines.extend(f"      {line}" for line in text.splitlines())
    if not occurrences:
        lines.append("Aucune date à venir.")
    elif any(occurrence.planned for occurrence in occurrences):
        lines.append(
            "« prévu » : date donnée par la règle seule ; `/intra club` le dit aussi, "
            "l'agenda de la communauté fait foi."
        )
    return "\n".join(lines)
