"""The shapes of an answer, in French: one unit first, a topic's overview, the honest
« I don't know ». Pure; every text goes through French typography here."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from bot.answers.render import (
    LINKS,
    TITLES,
    cap,
    extras,
    first_fitting,
    further_links,
    subcommands,
)
from bot.content.loader import Content
from bot.content.retrieval import Ranked
from bot.content.typography import NBSP, french
from bot.content.units import OVERVIEW
from bot.text import inline

SEE_ALSO = french("**Voir aussi** :\n")
MAX_SEE_ALSO = 2
SEE_ALSO_SHARE = 0.5  # a « Voir aussi » line must score at least half the best


def unit_reply(content: Content, ranked: Sequence[Ranked]) -> str:
    best = ranked[0]
    if best.unit.kind == OVERVIEW:
        return overview(content, best.unit.topic_id)
    floor = SEE_ALSO_SHARE * best.score
    close = tuple(r.unit.id for r in ranked[1:] if r.score >= floor)
    return _unit_reply(content, best.unit.id, close)


@lru_cache(maxsize=1024)  # keyed on units, not on a question: many questions share them
def _unit_reply(content: Content, best_id: str, close_ids: tuple[str, ...]) -> str:
    best = content.retriever.by_id[best_id]
    lines = [_unit_body(content, best.id)]
    seen = {best.command, f"/intra {best.topic_id}"}
    close = [content.retriever.by_id[unit_id] for unit_id in close_ids]
    # The same topic first: what sits next to the answer is more often what comes next.
    close.sort(key=lambda unit: unit.topic_id != best.topic_id)
    also: list[str] = []
    for other in close:
        if len(also) == MAX_SEE_ALSO:
            break
        if other.command in seen:
            continue
        seen.add(other.command)
        also.append(_see_also_line(content, other.id))
    if also:
        lines.append(SEE_ALSO + "\n".join(also))
    lines.append(f"Plus{NBSP}: `/intra {best.topic_id}`")
    return cap("\n\n".join(lines))


@lru_cache(maxsize=1024)
def two_units_reply(content: Content, first_id: str, second_id: str) -> str:
    """Two questions asked at once (bot/answers/two_questions.py): each one's unit, in the
    order asked, then where to read more of each topic."""
    units = [content.retriever.by_id[first_id], content.retriever.by_id[second_id]]
    bodies = [
        overview(content, unit.topic_id) if unit.kind == OVERVIEW else _unit_body(content, unit.id)
        for unit in units
    ]
    topics = dict.fromkeys(unit.topic_id for unit in units)
    more = f"Plus{NBSP}: " + " · ".join(f"`/intra {topic}`" for topic in topics)
    return cap("\n\n".join([*bodies, more]))


@lru_cache(maxsize=1024)
def _see_also_line(content: Content, unit_id: str) -> str:
    unit = content.retriever.by_id[unit_id]
    title = content.topics[unit.topic_id].title if unit.kind == OVERVIEW else unit.title
    return french(f"- {title} : `{unit.command}`")


@lru_cache(maxsize=1024)
def _unit_body(content: Content, unit_id: str) -> str:
    unit = content.retriever.by_id[unit_id]
    return french(f"{unit.markdown}\n_Source : {unit.source}_")


@lru_cache(maxsize=64)
def overview(content: Content, topic_id: str) -> str:
    """A topic in short: its summary, its people or channels, its sections as sub-commands.

    Short means about one screen: the further links go first, then the resources'
    descriptions, then their links; the sub-commands always stay (they lead to the rest)."""
    topic = content.topics[topic_id]
    head = [f"### {topic.title}", topic.summary]
    sections, links = subcommands(topic), further_links(topic)
    source = f"_Source : {topic.sources[0]}_"
    return french(
        first_fitting(
            [*head, *extras(topic), sections, links, source],
            [*head, *extras(topic), sections, source],
            [*head, *extras(topic, detail=LINKS), sections, source],
            [*head, *extras(topic, detail=TITLES), sections, source],
        )
    )


# The topic whose questions go to the certification's contact rather than the referents.
CERTIFICATION = "certification"


def no_answer(content: Content, text: str, near: Sequence[str]) -> str:
    """Say plainly there is no answer, who can help with such a question (the
    certification's contact when its nearest topic is the certification, else the
    referents), and the nearest topics."""
    first = french(content.messages.no_answer.replace("{texte}", inline(text)))
    return cap(f"{first}\n\n{_no_answer_rest(content, tuple(near))}")


@lru_cache(maxsize=256)
def _no_answer_rest(content: Content, near: tuple[str, ...]) -> str:
    """Everything after the first line: the same for every question with the same topics."""
    messages = content.messages
    if near and near[0] == CERTIFICATION and messages.no_answer_certification:
        parts = [messages.no_answer_certification]
    else:
        people = ", ".join(f"{p.name} ({p.email})" for p in content.referents.referents)
        parts = [messages.no_answer_help.replace("{referents}", people)]
    if near:
        parts.append("Sujets proches : " + " · ".join(f"`/intra {t}`" for t in near))
    else:
        parts.append(
            "Les sujets que je connais : " + " · ".join(f"`/intra {t}`" for t in content.topics)
        )
    parts.append("Tapez `/intra aide` pour voir tout ce que je sais faire.")
    return french("\n\n".join(parts))
