"""Topics -> Mattermost-flavoured Markdown, in French. Pure functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot import french as french_dates
from bot.chat import MAX_REPLY_CHARS
from bot.club.agenda import Occurrence
from bot.content.models import (
    ChannelsTopic,
    ReferentsTopic,
    Resource,
    ResourcesTopic,
    Topic,
)
from bot.content.schedule import ClubTopic
from bot.content.typography import french
from bot.content.units import channel_line, person_line, section_id

# A reply to a short question stays about one screen long: what people read.
SHORT_REPLY_CHARS = 1200
_KIND_TITLES = {"outil": "Outils à partager", "guide": "Guides", "article": "Articles"}


def club_markdown(
    club: ClubTopic, upcoming: Sequence[Occurrence], subscribe_url: str, today: dt.date
) -> str:
    """`/intra club`: when (the next date, the agenda that decides, the usual rhythm, the
    dates after) comes first, then what the club is and its sections as sub-commands. Dates carry their
    year when it is not `today`'s; dates the rule alone computed are marked « prévu »."""
    zone = ZoneInfo(club.schedule.timezone)
    # The agenda comes right after the next date, before the other dates' notes, so that
    # it is on the first screen (within 600 characters).
    agenda = f"C'est [l'agenda de la communauté]({club.agenda_url}) qui fait foi"
    if any(occurrence.planned for occurrence in upcoming):
        agenda += " : une date « prévue » suit la règle habituelle et peut y changer"
    usual = f"**D'habitude** : {club.rhythm}"
    lines = []
    if upcoming:
        # The next date first: it is what « c'est quand le prochain club ? » asks.
        first, *others = upcoming
        lines.append("**Le prochain club** : " + _occurrence_line(first, club, zone, today))
        lines.append(agenda + ".")
        lines.append(usual)
        if others:
            lines.append(
                "**Les suivants** :\n"
                + "\n".join(f"- {_occurrence_line(o, club, zone, today)}" for o in others)
            )
    else:
        lines.extend([usual, agenda + "."])
    when = [f"### {club.title}", "\n".join(lines)]
    if subscribe_url:
        when.append(f"**Ajouter les dates du club à votre agenda** : {subscribe_url}")
    sections, links = subcommands(club), further_links(club)
    source = f"_Source : {club.sources[0]}_"
    # What the club is matters less to someone asking when: it goes when space is short.
    return french(
        first_fitting(
            [*when, club.summary, sections, links, source],
            [*when, club.summary, sections, source],
            [*when, sections, source],
        )
    )


def _occurrence_line(
    occurrence: Occurrence, club: ClubTopic, zone: ZoneInfo, today: dt.date
) -> str:
    start, end = occurrence.start.astimezone(zone), occurrence.end.astimezone(zone)
    line = f"{_day(start.date(), today)}, de {french_dates.hour(start)} à {french_dates.hour(end)}"
    if occurrence.place != club.schedule.place:  # the usual place is in the summary
        line += f", {occurrence.place}"
    if occurrence.planned:
        line += " (prévu)"
    if occurrence.moved_from is not None:
        line += f" — ⚠️ date déplacée (au lieu du {_day(occurrence.moved_from, today)})"
    if occurrence.note:
        line += f". {occurrence.note}"
    return line


def _day(day: dt.date, today: dt.date) -> str:
    """« jeudi 3 décembre », with the year when it is not this year's."""
    return french_dates.day(day, year=day.year != today.year)


def subcommands(topic: Topic) -> str:
    """A topic's sections as the sub-commands that show them ("" without sections)."""
    if not topic.sections:
        return ""
    lines = [
        f"- `/intra {topic.id} {section_id(section)}` : {section.title}"
        for section in topic.sections
    ]
    return "**Dans ce sujet** :\n" + "\n".join(lines)


def further_links(topic: Topic) -> str:
    """Two links at most, not the topic's source again ("" when there are none)."""
    shown = [link for link in topic.links if link.url != topic.sources[0]][:2]
    if not shown:
        return ""
    return "**Pour aller plus loin** : " + " · ".join(
        f"[{link.title}]({link.url})" for link in shown
    )


def first_fitting(*variants: Sequence[str], budget: int = SHORT_REPLY_CHARS) -> str:
    """The first variant (its non-empty parts, one paragraph each) that fits `budget`
    characters, else the last one, capped. Variants go from the fullest to the shortest."""
    text = ""
    for parts in variants:
        text = "\n\n".join(part for part in parts if part)
        if len(text) <= budget:
            return text
    return cap(text)


def sources_line(topic: Topic) -> str:
    if len(topic.sources) == 1:
        return f"_Source : {topic.sources[0]}_"
    return "_Sources : " + " · ".join(topic.sources) + "_"


# How much of each resource an overview shows, from the most to the least.
FULL, LINKS, TITLES = 2, 1, 0


def extras(topic: Topic, *, detail: int = FULL) -> list[str]:
    """What a topic's overview shows besides its summary; less `detail` when space is short."""
    if isinstance(topic, ReferentsTopic):
        return ["\n".join(f"- {person_line(person)}" for person in topic.referents)]
    if isinstance(topic, ChannelsTopic):
        return ["\n".join(f"- {channel_line(channel)}" for channel in topic.channels)]
    if isinstance(topic, ClubTopic):
        return [f"**Quand ?** {topic.rhythm}\n**L'agenda** : {topic.agenda_url}"]
    if isinstance(topic, ResourcesTopic):
        if detail == TITLES:
            # The links go, not the resources: each is one `/intra ressources <mot>` away.
            titles = " · ".join(f"« {r.title} »" for r in topic.resources)
            return [f"{titles}\n\nLe lien d'une ressource : `/intra ressources <mot>`."]
        return [resources_markdown(topic.resources, descriptions=detail == FULL)]
    return []


def resources_markdown(resources: Sequence[Resource], *, descriptions: bool = True) -> str:
    blocks = []
    for kind, title in _KIND_TITLES.items():
        lines = [
            f"- [{r.title}]({r.url})"
            + (f" — {r.description}" if r.description and descriptions else "")
            for r in resources
            if r.kind == kind
        ]
        if lines:
            blocks.append(f"**{title}**\n" + "\n".join(lines))
    return "\n\n".join(blocks)


def cap(text: str, limit: int = MAX_REPLY_CHARS) -> str:
    """Keep a reply under the post size limit, saying so when it had to be cut."""
    if len(text) <= limit:
        return text
    note = "\n\n_(réponse raccourcie : elle dépassait la taille d'un message)_"
    return text[: limit - len(note) - 1].rstrip() + "…" + note
