"""Two questions in one message: « C'est quand la prochaine session, et l'oral dure
combien ? », « Benjamin est encore référent ? et sinon qui s'occupe des intras ? ».

People on a phone ask both at once; one unit rarely answers both. The message is cut once,
where a second question starts (after a « ? », or at « et » / « , et » before a question
word or a new subject), each half is searched on its own, and when each has a confident
answer of its own, both are given, in the order asked. A second half that may lean on the
first (« … l'investigation, et qui la finance ? ») is searched within the first's topic.
"""

from __future__ import annotations

import re

from bot.answers.decision import confident, search
from bot.content.analysis import content_words, words
from bot.content.loader import Content
from bot.content.retrieval import Ranked

# Where a second question may start: after a question mark, or at « et » (with or without
# a comma) before a question word or a pronoun that starts a clause.
_CUT = re.compile(
    r"\?\s+(?:et\s+)?(?=\S)"
    r"|,\s*et\s+"
    r"|\s+et\s+(?=(?:combien|qui|quand|où|ou|comment|quel|quelle|quels|quelles|pourquoi"
    r"|est-ce|sinon|je|j'|on|il|elle|ils|elles|vous|c'est)\b)",
    re.IGNORECASE,
)
# « la », « le », « les », « lui », « leur », « y », « en » before a verb: what the first
# half spoke of (an article reads the same; the search then stays within the topic).
OBJECT_PRONOUNS = frozenset({"la", "le", "les", "lui", "leur", "y", "en"})
MIN_PART_WORDS = 2  # a half with fewer content words is no question of its own
QUESTION_WORDS = frozenset(
    {"combien", "qui", "quand", "ou", "comment", "quel", "quelle", "quels", "quelles"}
    | {"pourquoi", "quoi", "lequel", "laquelle"}
)


def halves(text: str) -> tuple[str, str] | None:
    """The two questions of `text`, cut at the first place a second one starts; a half
    that asks nothing (« je suis arrivée il y a un mois ») is context, not a question."""
    for cut in _CUT.finditer(text):
        first, second = text[: cut.start()].strip(" ,;"), text[cut.end() :].strip(" ,;")
        if cut.group().startswith("?"):
            first += " ?"  # it asked, and said so
        if (
            len(content_words(first)) >= MIN_PART_WORDS
            and len(content_words(second)) >= MIN_PART_WORDS - 1
            and _asks(first)
            and _asks(second)
        ):
            return first, second
    return None


def _leans(half: str) -> bool:
    """Does the half speak of the first one's subject by a pronoun (« qui la finance »)?"""
    return not OBJECT_PRONOUNS.isdisjoint(words(half))


def _asks(half: str) -> bool:
    return half.rstrip().endswith("?") or not QUESTION_WORDS.isdisjoint(words(half))


def two_answers(text: str, content: Content) -> tuple[Ranked, Ranked] | None:
    """The best unit for each of the two questions of `text`, when each has a confident
    one and they differ; None otherwise (one answer, or none, as for any question)."""
    parts = halves(text)
    if parts is None:
        return None
    first_result, tied, tying = search(parts[0], content)
    if not confident(first_result, tied, tying) or first_result.best is None:
        return None
    first = first_result.best
    if _leans(parts[1]):
        # « … l'investigation, et qui la finance ? »: « la » is the first half's subject,
        # so the answer is in its topic or nowhere (the certification's cost is not it).
        topic = first.unit.topic_id
        second_result = content.retriever.search(parts[1], topic=topic)
        if not confident(second_result, [topic]):
            return None
    else:
        second_result, tied, tying = search(parts[1], content)
        if not confident(second_result, tied, tying):
            return None
    second = second_result.best
    if second is None or second.unit.id == first.unit.id:
        return None
    return first, second
