"""Whether to answer a free question from its best unit, its topic's overview, or not at
all. Pure: a search result and what the question is tied to in, a decision out.

Coverage alone cannot tell « horaires RER B » (half covered, by one everyday word) from
« c'est quoi un intra exactement ? » (barely covered, by the community's own words): what
the question is tied to (bot/answers/anchors.py) decides with it. The thresholds were
chosen on the development sets (tests/eval), never on the held-out one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answers.anchors import anchored_topics
from bot.content.analysis import content_words
from bot.content.loader import Content
from bot.content.retrieval import Result

# Below these, the best unit is not trusted: the reply says so instead of guessing.
# Coverage: the share of the question's (idf-weighted) words the best unit contains.
MIN_SCORE = 2.0
MIN_COVERAGE_TIED_TOPIC = 0.1  # a question tied to a topic (anchors.py), from that topic
MIN_TIED_ELSEWHERE_COVERAGE = 0.4  # ... from another topic
MIN_UNTIED_COVERAGE = 0.6  # a question with none of its words
# The words settle a question they cover this well with a first this far ahead; the others
# get a second opinion from the words' shapes.
SETTLED_COVERAGE = 0.6
SETTLED_MARGIN = 1.3
# A unit matched by the tying words alone still answers when it covers this much of the
# question with a first this far ahead (`says_more`).
CLEAR_COVERAGE = 0.5
CLEAR_MARGIN = 2.0
TIED_SHARE_DIVISOR = 3  # more than one word in three names the topic, for its overview
ROLE = "role"  # « intra » names the role only when nothing else is named
# Where a sentence ends: « . », « ! », « ? », « … » followed by a space or the end.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_SENTENCE_WITH_MARK = re.compile(r"[^.!?…]*\?")


def search(text: str, content: Content) -> tuple[Result, list[str], frozenset[str]]:
    """The ranked units for a question, the topics it is tied to, and its words that tie."""
    result = content.retriever.search(text)
    if not settled(result):  # a second opinion from the words' shapes
        result = content.retriever.search(text, shapes=True)
    tying = frozenset(
        typed for typed, term in result.found if anchored_topics(content, [(typed, term)])
    )
    return result, anchored_topics(content, result.found), tying


def confident(result: Result, tied: Sequence[str], tying: frozenset[str] = frozenset()) -> bool:
    """Answer from the best unit? Coverage alone cannot tell « horaires RER B » (half
    covered, by a common word) from « c'est quoi un intra exactement » (barely covered,
    by the community's own words): what the question is tied to decides with it."""
    best = result.best
    if best is None or best.score < MIN_SCORE:
        return False
    if tied:
        # Tied to a topic, the question wants that topic's units; another topic's unit
        # must cover it as well as an untied question's would (« c'est quoi cette certif
        # dont tout le monde parle » is not about the careers' « parler »).
        if best.unit.topic_id in tied:
            return result.coverage >= MIN_COVERAGE_TIED_TOPIC and says_more(result, tying)
        return result.coverage >= MIN_TIED_ELSEWHERE_COVERAGE
    return result.coverage >= MIN_UNTIED_COVERAGE


def says_more(result: Result, tying: frozenset[str]) -> bool:
    """Does the best unit match more than the words that tie the question, when the
    question says more? « comment avoir des tickets resto quand on est contractuel » matches
    the certification's conditions by « contractuel » alone: no answer from them."""
    best = result.best
    if best is None or len(result.terms) <= len(tying) + 1:
        return True
    if any(match.typed not in tying for match in best.matches):
        return True
    # Half the question and far ahead of the rest (« Benjamin Doberset est toujours
    # référent ? » and the team's history): the tying words are what it is about.
    ranked = result.ranked
    return result.coverage >= CLEAR_COVERAGE and (
        len(ranked) == 1 or best.score >= CLEAR_MARGIN * ranked[1].score
    )


def settled(result: Result) -> bool:
    """Do the words alone settle the question: well covered, with a clear first?"""
    ranked = result.ranked
    if result.coverage < SETTLED_COVERAGE or not ranked:
        return False
    return len(ranked) == 1 or ranked[0].score >= SETTLED_MARGIN * ranked[1].score


def mostly_tied(result: Result, tying: frozenset[str]) -> bool:
    """Are the question's words about the community rather than about something else?
    (« c'est quoi la certif exactement » is; « poser des congés dans mon logiciel RH »
    is not, though « RH » names the careers topic.)"""
    return len(tying) * TIED_SHARE_DIVISOR > len(result.terms)


def fallback_topic(result: Result, tied: Sequence[str]) -> str:
    """The topic whose overview answers a question tied to it but matched by no unit."""
    best = result.best
    if best is not None and best.unit.topic_id in tied:
        return best.unit.topic_id
    specific = [topic for topic in tied if topic != ROLE]
    if len(specific) == 1:
        return specific[0]
    return tied[0] if len(tied) == 1 else ""


def last_question(text: str) -> str:
    """The last sentence of a message of several, preferring one that asks (« ? »);
    "" for a message of one sentence."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if content_words(s)]
    if len(sentences) < 2:
        return ""
    asking = [s for s in _SENTENCE_WITH_MARK.findall(text) if content_words(s)]
    return asking[-1].strip() if asking else sentences[-1]
