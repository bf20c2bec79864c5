"""« /intra <texte> » -> Reply. Pure: no I/O, no clock, no platform.

A slash command, a direct message and a mention all end here. A question is
answered from the one content unit that answers it best, or, below a confidence
threshold, with an honest « je n'ai pas de réponse » that names who can help.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from bot.answers.anchors import anchored_topics
from bot.answers.club_dates import asks_next_club
from bot.answers.commands import COMMAND_ALIASES, COMMAND_HELP, command_of
from bot.answers.decision import (
    ROLE,
    confident,
    fallback_topic,
    last_question,
    mostly_tied,
    search,
)
from bot.answers.render import cap
from bot.answers.replies import no_answer, overview, two_units_reply, unit_reply
from bot.answers.resources_filter import resources_reply
from bot.answers.search import search_reply
from bot.answers.small_talk import small_talk
from bot.answers.suggestions import did_you_mean, suggestions
from bot.answers.topic_actions import ELSEWHERE as SUBSCRIPTIONS_ELSEWHERE
from bot.answers.topic_actions import action_target, topic_action
from bot.answers.topic_actions import elsewhere as subscriptions_elsewhere
from bot.answers.two_questions import two_answers
from bot.chat import Reply
from bot.config import DEFAULT_PRIVATE_CHANNEL
from bot.content.analysis import MAX_QUESTION_CHARS, STOP_WORDS, content_words, words
from bot.content.loader import Content
from bot.content.retrieval import Ranked
from bot.content.typography import french
from bot.text import fold

# A question longer than this is a search, even if it names a topic.
MAX_WORDS_FOR_TOPIC = 8
# « Pourriez-vous m'indiquer la date du prochain club, s'il vous plaît ? » asks a date too.
MAX_WORDS_FOR_CLUB_DATE = 20
# Words that name the community itself: they never make a question more precise.
GENERIC_WORDS = frozenset({"intra", "intras", "beta", "gouv", "fr", "betagouv", "communaute"})
TOO_LONG = french(
    f"_Votre message est long : je n'en ai lu que les {MAX_QUESTION_CHARS} premiers caractères._"
)


@dataclass(frozen=True)
class Answer:
    """A reply and what it was about, for the record of what the bot could not answer."""

    reply: Reply
    topic_id: str = ""  # the topic answered from ("" for a command or no answer)
    unit_id: str = ""  # the best unit found, even when it was not good enough
    score: float = 0.0
    answered: bool = True
    question: bool = False  # a question about the content (not « aide », « rejoindre »…)


def answer(text: str, content: Content) -> Reply:
    """The reply to `/intra <text>` (or the same text in a DM or a mention)."""
    return respond(text, content).reply


def respond(
    text: str, content: Content, *, private_channel: str = DEFAULT_PRIVATE_CHANNEL
) -> Answer:
    """`answer`, with what the reply was about.

    Only the first `MAX_QUESTION_CHARS` characters are read, so that a long paste costs
    what a short question does; the reply then says so.
    """
    if len(text) <= MAX_QUESTION_CHARS:
        return _respond(text, content, private_channel)
    outcome = _respond(text[:MAX_QUESTION_CHARS], content, private_channel)
    reply = replace(outcome.reply, text=cap(f"{TOO_LONG}\n\n{outcome.reply.text}"))
    return replace(outcome, reply=reply)


def _respond(text: str, content: Content, private_channel: str) -> Answer:
    command, rest = _split(text)
    if not command:
        return Answer(help_reply(content, private_channel))
    topic_id = content.aliases.get(command)
    if topic_id is not None:
        if topic_action(topic_id, rest) is not None:  # no subscription service here (console)
            return Answer(Reply(french(SUBSCRIPTIONS_ELSEWHERE)))
        return _about_topic(text, rest, topic_id, content)
    name = command_of(command)
    if name == "aide":
        return Answer(help_reply(content, private_channel))
    if name is not None:
        return Answer(_COMMANDS[name](rest, content))
    greeting = small_talk(words(text), text)
    if greeting is not None and not anchored_topics(
        content, content.retriever.analyzer.pairs(text)
    ):
        return Answer(greeting)  # not a question: neither counted nor recorded
    named = _topic_named_in(text, content)
    if named is not None:
        return _overview(named, content)
    return _free_text(text, content)


def resolve(text: str, content: Content) -> str:
    """The topic id or command `answer` would dispatch `text` to ("" for a search)."""
    command, rest = _split(text)
    if not command:
        return "aide"
    if command in content.aliases:
        # « /intra club prevenez-moi »: an action for the topic's subscription service.
        action = topic_action(content.aliases[command], rest)
        if action is not None:
            return action_target(content.aliases[command], action)
        # « /intra club » goes to the club's service; « forum mensuel horaires » is a question.
        return "" if _meaningful(rest) else content.aliases[command]
    return command_of(command) or _topic_named_in(text, content) or _next_club(text, content)


def _next_club(text: str, content: Content) -> str:
    """« club » for a question about the next club's date, when the club is a topic."""
    if "club" not in content.topics:
        return ""
    folded = words(text)
    if len(folded) > MAX_WORDS_FOR_CLUB_DATE:
        return ""
    named, rest = _names(tuple(w for w in folded if w not in GENERIC_WORDS), content)
    if len(named) > 1:  # « le prochain club des intrapreneurs »: the role is the community
        named.discard(ROLE)
    others = [w for w in rest if _meaningful_words((w,))]
    return "club" if asks_next_club(folded, named, others) else ""


@lru_cache(maxsize=64)
def help_reply(content: Content, private_channel: str = DEFAULT_PRIVATE_CHANNEL) -> Reply:
    """`/intra aide`: the topics, then the commands (« rejoindre » names `private_channel`)."""
    lines = [content.messages.help_intro, ""]
    for topic_id, topic in content.topics.items():
        lines.append(f"- `/intra {topic_id}` : {topic.description}")
    for usage, description in COMMAND_HELP.values():
        lines.append(f"- `/intra {usage}` : {description.format(canal_prive=private_channel)}")
    lines.extend(["", content.messages.help_footer])
    return Reply(cap(french("\n".join(lines))))


def _about_topic(text: str, rest: str, topic_id: str, content: Content) -> Answer:
    """`/intra <sujet>`, `/intra <sujet> <section>` or `/intra <sujet> <question>`."""
    if not _meaningful(rest):
        return _overview(topic_id, content)
    section = content.retriever.by_id.get(f"{topic_id}/{'-'.join(content_words(rest))}")
    if section is not None:
        return _unit_answer([Ranked(section, 0.0, ())], content)
    if _topic_named_in(rest, content) == topic_id:
        # « contact référents »: two names of the same topic.
        return _overview(topic_id, content)
    if topic_id == "ressources":
        return Answer(resources_reply(rest, content), topic_id=topic_id, question=True)
    result = content.retriever.search(text)
    # The topic's own unit answers nothing more than `/intra <sujet>` did: a fallback too.
    if confident(result, [topic_id]) and result.ranked[0].unit.id != topic_id:
        return _unit_answer(result.ranked, content)
    # The topic's overview is a fallback, not an answer: recorded as unanswered for editors.
    best = result.best
    return replace(
        _overview(topic_id, content),
        unit_id=best.unit.id if best else "",
        score=best.score if best else 0.0,
        answered=False,
    )


def _free_text(text: str, content: Content) -> Answer:
    close = _close_names(_split(text)[0], content) if len(words(text)) == 1 else []
    if close and close[0] in content.topics:
        # One mistyped word close to a topic's name (« refrents »): that topic, said so.
        shown = _overview(close[0], content)
        return Answer(
            Reply(cap(f"{did_you_mean(close)}\n\n{shown.reply.text}")),
            topic_id=shown.topic_id,
            unit_id=shown.unit_id,
            question=True,
        )
    both = two_answers(text, content)
    if both is not None:
        first, second = both
        return Answer(
            Reply(two_units_reply(content, first.unit.id, second.unit.id)),
            topic_id=first.unit.topic_id,
            unit_id=first.unit.id,
            score=first.score,
            question=True,
        )
    result, tied, tying = search(text, content)
    if confident(result, tied, tying):
        return _unit_answer(result.ranked, content)
    question = last_question(text)
    if question:
        # « Je suis greffière à Bordeaux, mon chef… Combien de temps dure l'oral ? »: the
        # context dilutes the question; the question alone may be clear.
        alone, alone_tied, alone_tying = search(question, content)
        if confident(alone, alone_tied, alone_tying):
            return _unit_answer(alone.ranked, content)
    best = result.best
    topic = fallback_topic(result, tied)
    if topic and mostly_tied(result, tying):
        # The question is about a topic the bot knows, in words it does not: the topic's
        # overview helps more than « no sure answer » (recorded as unanswered for editors).
        shown = _overview(topic, content)
        return replace(
            shown,
            unit_id=best.unit.id if best else "",
            score=best.score if best else 0.0,
            answered=False,
        )
    # The topics the question is tied to, not those a stray word matched: « renouveler
    # mon passeport » is near nothing (and gets the referents, not the certification).
    near = [t for t in tied if t != ROLE or len(tied) == 1][:3]
    message = no_answer(content, text, near)
    if close:
        message = cap(f"{did_you_mean(close)}\n\n{message}")
    return Answer(
        Reply(message),
        unit_id=best.unit.id if best else "",
        score=best.score if best else 0.0,
        answered=False,
        question=True,
    )


@lru_cache(maxsize=1024)
def _close_names(command: str, content: Content) -> list[str]:
    """The names closest to a mistyped word (difflib is slow: a typo is often repeated)."""
    return suggestions(command, content, COMMAND_ALIASES)


@lru_cache(maxsize=64)  # like `overview`: a few contents' worth, old ones drop out
def _overview(topic_id: str, content: Content) -> Answer:
    # One Answer per topic and content: `/intra referents` builds nothing per request, and
    # the adapters' encoding caches (keyed by the Reply) find it by identity.
    return Answer(
        Reply(overview(content, topic_id)), topic_id=topic_id, unit_id=topic_id, question=True
    )


def _unit_answer(ranked: Sequence[Ranked], content: Content) -> Answer:
    best = ranked[0]
    return Answer(
        Reply(unit_reply(content, ranked)),
        topic_id=best.unit.topic_id,
        unit_id=best.unit.id,
        score=best.score,
        question=True,
    )


def _meaningful(text: str) -> bool:
    """Does `text` say more than stop words and the community's name? (« 8 » does.)"""
    return _meaningful_words(words(text))


def _meaningful_words(folded: Sequence[str]) -> bool:
    return any(
        word.isdigit() or (len(word) > 1 and word not in STOP_WORDS and word not in GENERIC_WORDS)
        for word in folded
    )


@lru_cache(maxsize=4096)
def _split(text: str) -> tuple[str, str]:
    text = text.strip()
    if fold(text).startswith("/intra"):
        text = text[len("/intra") :].strip()
    first, _, rest = text.partition(" ")
    return fold(first).strip(" ?!.,;:«»\"'"), rest.strip()


def _needs_the_platform(_rest: str, content: Content) -> Reply:
    # Invitations need a chat platform; without one (console, `intra-bot ask`) say where to go.
    return Reply(content.messages.mattermost_only)


def _stats_elsewhere(_rest: str, _content: Content) -> Reply:
    return Reply(
        french(
            "`/intra stats` s'utilise sur Mattermost ; il est réservé aux référentes des intras."
        )
    )


Handler = Callable[[str, Content], Reply]
_COMMANDS: dict[str, Handler] = {
    "chercher": search_reply,
    "rejoindre": _needs_the_platform,
    "demandes": _needs_the_platform,
    "accepter": _needs_the_platform,
    "refuser": _needs_the_platform,
    "stats": _stats_elsewhere,
    "mes-abonnements": subscriptions_elsewhere,  # served by bot/subscriptions/ on a platform
}


@lru_cache(maxsize=4096)  # asked by `resolve` and by `answer` for the same text
def _topic_named_in(text: str, content: Content) -> str | None:
    """The one topic a short question names and nothing else (« qui sont les référents ? »).

    Words for the community itself (« intra ») name the role only when nothing else is
    named: « référents intras » is about the referents.
    """
    folded = words(text)
    if not folded or len(folded) > MAX_WORDS_FOR_TOPIC:
        return None
    specific = tuple(w for w in folded if w not in GENERIC_WORDS)
    named, rest = _names(specific, content)
    if not named and len(specific) < len(folded):  # the same words would name nothing again
        named, rest = _names(folded, content)
    if len(named) != 1 or _meaningful_words(rest):
        return None
    return named.pop()


def _names(folded: tuple[str, ...], content: Content) -> tuple[set[str], list[str]]:
    """The topics `folded` names, and its words that name none."""
    single, multi = _alias_lookup(content)
    # Several-word aliases first: « fiche metier » names the role even though « metier »
    # alone is an alias too.
    joined = f" {' '.join(folded)} "
    named: set[str] = set()
    for alias, topic_id in multi:
        if alias in joined:
            named.add(topic_id)
            joined = joined.replace(alias, " ")
    rest = []
    for word in joined.split():
        if word in single:
            named.add(single[word])
        else:
            rest.append(word)
    return named, rest


@lru_cache(maxsize=16)
def _alias_lookup(content: Content) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """One-word aliases (plural forms too) for a dict look-up; the others for a substring test."""
    single: dict[str, str] = {}
    multi: list[tuple[str, str]] = []
    for alias, topic_id in content.aliases.items():
        alias_words = words(alias)
        if len(alias_words) == 1:
            single[alias_words[0]] = topic_id
            if len(alias_words[0]) > 4:
                single.setdefault(alias_words[0] + "s", topic_id)
        elif alias_words:
            multi.append((f" {' '.join(alias_words)} ", topic_id))
    return single, tuple(multi)


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
