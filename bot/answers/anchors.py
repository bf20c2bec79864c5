"""The words that tie a question to the community: a topic's name, a person, a channel, a
resource's rare name. Pure, computed once per content.

A question with one of them is about something the bot knows even when its other words
match nothing (« c'est quoi un intra exactement ? », « l'étude Embrapa »): it deserves an
answer from that topic rather than « no sure answer ». A question without any (« horaires
RER B », « taux livret A ») needs the content's words to cover it well before the bot
answers: a single shared word (« horaires », « taux ») is no reason to.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from bot.content.analysis import content_words
from bot.content.loader import Content
from bot.content.units import CHANNEL, PERSON, RESOURCE

# A unit's own name is an anchor when its term is this rare across units (« embrapa »,
# « doberset », « tchap »), so that a name read in the content is not a common word.
MAX_NAME_UNITS = 2
MIN_NAME_LENGTH = 4


@lru_cache(maxsize=16)
def anchors(content: Content) -> dict[str, str]:
    """Search term -> the topic it ties a question to."""
    retriever = content.retriever
    term = retriever.analyzer.term
    table: dict[str, str] = {}
    for alias, topic_id in content.aliases.items():
        for word in content_words(alias):
            table.setdefault(term(word), topic_id)
    for unit in retriever.units:
        if unit.kind not in (PERSON, CHANNEL, RESOURCE):
            continue
        for word in content_words(unit.title):
            name = term(word)
            if (
                len(word) >= MIN_NAME_LENGTH
                and len(retriever.postings.get(name, ())) <= MAX_NAME_UNITS
            ):
                table.setdefault(name, unit.topic_id)
    return table


def anchored_topics(content: Content, terms: Iterable[str]) -> list[str]:
    """The topics a question's terms are tied to, in the question's order, once each."""
    table = anchors(content)
    return list(dict.fromkeys(table[t] for t in terms if t in table))
