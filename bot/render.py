"""Topics -> Mattermost-flavoured Markdown, in French. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot import french
from bot.agenda import Occurrence
from bot.chat import MAX_REPLY_CHARS
from bot.content_models import (
    ChannelsTopic,
    ClubTopic,
    ReferentsTopic,
    Resource,
    ResourcesTopic,
    Topic,
)

_KIND_TITLES = {"outil": "Outils à partager", "guide": "Guides", "article": "Articles"}


def club_markdown(club: ClubTopic, upcoming: Sequence[Occurrence], subscribe_url: str) -> str:
    zone = ZoneInfo(club.schedule.timezone)
    parts = [f"### {club.title}", club.summary]
    if upcoming:
        first, *others = upcoming
        parts.append("**Le prochain club** : " + _occurrence_line(first, zone, year=False))
        if others:
            parts.append(
                "**Les suivants** :\n" + "\n".join(f"- {_occurrence_line(o, zone)}" for o in others)
            )
    parts.append(f"**D'habitude** : {club.rhythm}")
    links = f"**L'agenda de la communauté** (c'est lui qui fait foi) : {club.agenda_url}"
    if subscribe_url:
        links += f"\n**Ajouter les dates du club à votre agenda** : {subscribe_url}"
    parts.append(links)
    parts.append(sources_line(club))
    return cap("\n\n".join(parts))


def _occurrence_line(occurrence: Occurrence, zone: ZoneInfo, *, year: bool = False) -> str:
    start, end = occurrence.start.astimezone(zone), occurrence.end.astimezone(zone)
    line = f"{french.day(start.date(), year=year)}, de {french.hour(start)} à {french.hour(end)}, {occurrence.place}"
    if occurrence.moved_from is not None:
        line += f" — ⚠️ date déplacée (au lieu du {french.day(occurrence.moved_from)})"
    if occurrence.note:
        line += f". {occurrence.note}"
    return line


def sources_line(topic: Topic) -> str:
    if len(topic.sources) == 1:
        return f"_Source : {topic.sources[0]}_"
    return "_Sources : " + " · ".join(topic.sources) + "_"


def extras(topic: Topic) -> list[str]:
    if isinstance(topic, ReferentsTopic):
        lines = [
            f"- **{person.name}**, {person.role} — [{person.email}](mailto:{person.email})"
            f" · sur Mattermost : `@{person.mattermost}`"
            for person in topic.referents
        ]
        return ["\n".join(lines)]
    if isinstance(topic, ChannelsTopic):
        lines = [
            f"- **~{channel.name}** ({'public' if channel.visibility == 'public' else 'privé'}) : "
            f"{channel.description} {channel.how_to_join}"
            for channel in topic.channels
        ]
        return ["\n".join(lines)]
    if isinstance(topic, ClubTopic):
        return [f"**Quand ?** {topic.rhythm}\n**L'agenda** : {topic.agenda_url}"]
    if isinstance(topic, ResourcesTopic):
        return [resources_markdown(topic.resources)]
    return []


def resources_markdown(resources: Sequence[Resource]) -> str:
    blocks = []
    for kind, title in _KIND_TITLES.items():
        lines = [
            f"- [{r.title}]({r.url})" + (f" — {r.description}" if r.description else "")
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
