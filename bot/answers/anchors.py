"""The words that tie a question to the community's subjects. Pure, computed once per
content.

A question with one of them is about something the bot knows even when its other words
match nothing (« c'est quoi un intra exactement ? », « l'oral est en présentiel ? »): it
deserves an answer from that subject rather than « no sure answer ». A question without
any (« horaires RER B », « taux livret A ») needs the content's words to cover it well
before the bot answers: one shared everyday word (« horaires », « taux ») is no reason to.

The anchors: a topic's name and aliases; a person's names; and the content's own words
that are not everyday French (bot/content/lexicon.py: « présentiel », « investigation »,
« codéveloppement », « Embrapa »), each tied to the topics whose units use it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from bot.content.analysis import content_words
from bot.content.lexicon import everyday_stems
from bot.content.loader import Content
from bot.content.units import PERSON, Unit

MIN_WORD_LENGTH = 4  # « rh » is an alias; a shorter content word is an abbreviation or noise
_URL = re.compile(r"\S+://\S+|\S+@\S+")


@lru_cache(maxsize=16)
def anchors(content: Content) -> dict[str, tuple[str, ...]]:
    """Search term -> the topics it ties a question to, the most used first."""
    retriever = content.retriever
    term = retriever.analyzer.term
    everyday = retriever.everyday
    table: dict[str, tuple[str, ...]] = {}
    for alias, topic_id in content.aliases.items():
        for word in content_words(alias):
            table.setdefault(term(word), (topic_id,))
    # The term of an everyday word that names its synonyms' group is no anchor, whatever
    # word the content used for it (« how many » in a paraphrase is « combien »); a group
    # named by a rarer word stays one (« présentiel », though « physique » is in it).
    synonyms = retriever.analyzer.synonyms
    everyday_terms = {s for s in everyday_stems() if synonyms.get(s, s) == s}
    weight: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for number, unit in enumerate(retriever.units):
        names = set(content_words(unit.title)) if unit.kind == PERSON else set()
        for word in _own_words(unit):
            name = term(word)
            if len(word) < MIN_WORD_LENGTH or word.isdigit() or name not in retriever.postings:
                continue
            if word in names or (word not in everyday and name not in everyday_terms):
                weight[name][unit.topic_id] += retriever.postings[name].get(number, 0.0)
    for name, topics in weight.items():
        table.setdefault(name, tuple(sorted(topics, key=lambda t: -topics[t])))
    return table


def _own_words(unit: Unit) -> set[str]:
    """The words a unit says itself (not its context, not the pieces of its links; a
    person's keywords are « e-mail », « contacter »: said of everyone)."""
    keywords = () if unit.kind == PERSON else unit.keywords
    fields = [unit.title, unit.text, *unit.questions, *keywords]
    return {w for field in fields for w in content_words(_URL.sub(" ", field), None)}


def anchored_topics(content: Content, pairs: Iterable[tuple[str, str]]) -> list[str]:
    """The topics a question's (word as typed, term) pairs are tied to, in the question's
    order, once each. An everyday word typed ties nothing, whatever term it is read as
    (« en ligne » is no « distance »); a topic's name does, however common (« club »)."""
    table = anchors(content)
    names = topic_names(content)
    everyday = content.retriever.everyday
    return list(
        dict.fromkeys(
            topic
            for typed, term in pairs
            if term in names or typed not in everyday
            for topic in table.get(term, ())
        )
    )


@lru_cache(maxsize=16)
def topic_names(content: Content) -> frozenset[str]:
    """The terms of the topics' names and aliases."""
    term = content.retriever.analyzer.term
    return frozenset(term(word) for alias in content.aliases for word in content_words(alias))
