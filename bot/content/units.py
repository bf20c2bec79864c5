"""The content cut into answerable units: a topic's overview, each section, each list
item, each person, channel and resource. A reply leads with one whole unit."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.content.analysis import content_words
from bot.content.models import (
    Channel,
    ChannelsTopic,
    Referent,
    ReferentsTopic,
    ResourcesTopic,
    Section,
    Topic,
)
from bot.content.schedule import ClubTopic

OVERVIEW, SECTION, ITEM, PERSON, CHANNEL, RESOURCE, AGENDA = (
    "sujet", "section", "élément", "personne", "canal", "ressource", "agenda",
)  # fmt: skip


# One account of `accounts_line`, found again in a reply (its spaces made no-break by
# French typography, or not): a reply to a Mattermost user keeps only the Mattermost
# account, to a Tchap user the Tchap one (`bot.speech`).
ACCOUNT_SHOWN = re.compile(
    r"[ \u00a0]·[ \u00a0]sur[ \u00a0](?P<label>[^·:`\n]+?)[ \u00a0\u202f]*:[ \u00a0]`@[^`\n]*`"
)


def accounts_line(person: Referent) -> str:
    """« · sur Mattermost : `@x` · sur Tchap : `@x:serveur` », for each account known."""
    return "".join(
        f" · sur {label} : `{account if account.startswith('@') else '@' + account}`"
        for label, account in person.comptes.shown()
    )


@dataclass(frozen=True)
class Unit:
    """One answerable piece of content.

    `markdown` is what the reply shows, whole; `title`, `questions`, `keywords`,
    `text` and `context` are what the search reads, each with its own weight.
    `command` is the sub-command that shows the unit's section (or its topic).
    """

    id: str
    kind: str
    topic_id: str
    title: str
    markdown: str
    source: str
    command: str
    text: str = ""
    questions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    context: str = ""


def section_id(section: Section) -> str:
    """`id:` if given, else the first two meaningful words of the title: « sessions-an »."""
    if section.id:
        return section.id
    return "-".join(content_words(section.title)[:2]) or "section"


def units_of(topics: Iterable[Topic]) -> list[Unit]:
    return [unit for topic in topics for unit in _units(topic)]


def _units(topic: Topic) -> Iterator[Unit]:
    home = topic.sources[0]
    base = f"/intra {topic.id}"
    context = " ".join([topic.title, *topic.aliases])
    yield Unit(
        id=topic.id,
        kind=OVERVIEW,
        topic_id=topic.id,
        title=f"{topic.title} {topic.id} {' '.join(topic.aliases)}",
        markdown=topic.summary,
        source=home,
        command=base,
        # Links are no unit of their own (a title is no answer): their titles help find
        # the topic, whose overview shows them.
        text=" ".join(
            [topic.summary, *_overview_extras(topic), *(link.title for link in topic.links)]
        ),
        questions=tuple(topic.questions),
        keywords=tuple(topic.keywords),
    )
    for section in topic.sections:
        yield from _section_units(topic, section, home, context)
    if isinstance(topic, ReferentsTopic):
        for person in topic.referents:
            yield Unit(
                id=f"{topic.id}/{'-'.join(content_words(person.name))}",
                kind=PERSON,
                topic_id=topic.id,
                title=person.name,
                markdown=person_line(person),
                source=home,
                command=base,
                text=f"{person.role} {person.email.replace('.', ' ')}",
                questions=tuple(person.questions),
                keywords=("e-mail", "adresse", "contacter"),
                context=context,
            )
    if isinstance(topic, ChannelsTopic):
        for channel in topic.channels:
            visibility = _VISIBILITY[channel.visibility]
            yield Unit(
                id=f"{topic.id}/{channel.name}",
                kind=CHANNEL,
                topic_id=topic.id,
                title=f"{channel.name.replace('-', ' ')} {channel.display_name}",
                markdown=channel_line(channel),
                source=channel.url,
                command=base,
                text=f"{visibility} {channel.description} {channel.how_to_join}",
                questions=tuple(channel.questions),
                keywords=("canal", "mattermost"),
                context=context,
            )
    if isinstance(topic, ClubTopic):
        # The agenda's link is a fact of its own (« où est l'agenda ? »), not only a line
        # of the overview: `/intra club agenda` shows it. No club context: the agenda is
        # the whole community's, and the club's words must not weigh less for it.
        yield Unit(
            id=f"{topic.id}/agenda",
            kind=AGENDA,
            topic_id=topic.id,
            title="L'agenda de la communauté",
            markdown=(
                f"**L'agenda de la communauté** : {topic.agenda_url}\n"
                "C'est lui qui fait foi pour les dates du club et des forums."
            ),
            source=home,
            command=f"{base} agenda",
            text="le lien de l'agenda public de la communauté, qui fait foi pour les dates",
            keywords=("calendrier", "lien", "dates"),
        )
    if isinstance(topic, ResourcesTopic):
        for number, resource in enumerate(topic.resources, start=1):
            description = f" — {resource.description}" if resource.description else ""
            yield Unit(
                id=f"{topic.id}/{number}",
                kind=RESOURCE,
                topic_id=topic.id,
                title=resource.title,
                markdown=f"[{resource.title}]({resource.url}){description}",
                source=resource.url,
                command=base,
                text=resource.description,
                questions=tuple(resource.questions),
                keywords=tuple(resource.keywords),
                context=context,
            )


def person_line(person: Referent) -> str:
    """A referent as every reply shows them: name, role, e-mail, each known account."""
    return (
        f"**{person.name}**, {person.role} — [{person.email}](mailto:{person.email})"
        f"{accounts_line(person)}"
    )


def channel_line(channel: Channel) -> str:
    """A channel as every reply shows it: name, public or private, what it is, how to join."""
    return (
        f"**~{channel.name}** ({_VISIBILITY[channel.visibility]}) : {channel.description} "
        f"{channel.how_to_join}"
    )


_VISIBILITY = {"public": "public", "prive": "privé"}


def _overview_extras(topic: Topic) -> list[str]:
    """What a topic's overview shows besides its summary (the club's rhythm and agenda)."""
    if isinstance(topic, ClubTopic):
        return [topic.rhythm, "l'agenda de la communauté"]
    return []


def _section_units(topic: Topic, section: Section, home: str, context: str) -> Iterator[Unit]:
    sub = section_id(section)
    command = f"/intra {topic.id} {sub}"
    lines = [f"**{section.title}**"]
    if section.text:
        lines.append(section.text)
    lines.extend(f"- {item.text}" for item in section.items)
    yield Unit(
        id=f"{topic.id}/{sub}",
        kind=SECTION,
        topic_id=topic.id,
        title=section.title,
        markdown="\n".join(lines),
        source=home,
        command=command,
        text=" ".join([section.text, *(item.text for item in section.items)]),
        questions=tuple(section.questions),
        keywords=tuple(section.keywords),
        context=context,
    )
    for number, item in enumerate(section.items, start=1):
        yield Unit(
            id=f"{topic.id}/{sub}/{number}",
            kind=ITEM,
            topic_id=topic.id,
            title=section.title,
            markdown=f"**{section.title}**\n- {item.text}",
            source=home,
            command=command,
            text=item.text,
            questions=tuple(item.questions),
            context=f"{context} {section.title} {section.text}",
        )
