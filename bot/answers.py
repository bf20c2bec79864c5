"""« /intra <texte> » -> Reply. Pure: no I/O, no clock, no platform.

A slash command, a direct message and a mention all end here.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import lru_cache

from bot.chat import Reply
from bot.content import Content
from bot.content_models import Resource
from bot.render import cap, resources_markdown, topic_markdown
from bot.search import MAX_QUERY_CHARS, Hit
from bot.text import Form, defuse, fold, inline, keywords, words

# Commands that are not content topics, with the words people use for them.
COMMAND_ALIASES: dict[str, tuple[str, ...]] = {
    "aide": ("aide", "help", "aider", "commandes", "?"),
    "chercher": ("chercher", "cherche", "recherche", "rechercher", "search", "trouver"),
    "rejoindre": ("rejoindre", "acces", "invitation", "inviter", "adhesion"),
    "demandes": ("demandes", "demande"),
}
COMMAND_HELP = {
    "chercher": ("chercher <mots>", "cherche dans tout le contenu"),
    "rejoindre": ("rejoindre [message]", "demander l'accès au canal privé ~domaine-intras-prive"),
    "demandes": ("demandes", "(référents) les demandes d'accès en attente"),
}
# A question longer than this is a search, even if it names a topic.
MAX_WORDS_FOR_TOPIC = 8
# Only this much of a question is read (the rest is ignored, and the reply says so), so
# that a long paste costs what a short question does.
MAX_TEXT_CHARS = MAX_QUERY_CHARS
TOO_LONG = (
    "_Votre message est long : je n'en ai lu que les "
    f"{MAX_TEXT_CHARS:,} premiers caractères._".replace(",", "\u202f")
)


def answer(text: str, content: Content) -> Reply:
    """The reply to `/intra <text>` (or the same text in a DM or a mention)."""
    if len(text) <= MAX_TEXT_CHARS:
        return _answer(text, content)
    reply = _answer(text[:MAX_TEXT_CHARS], content)
    return replace(reply, text=cap(f"{TOO_LONG}\n\n{reply.text}"))


def _answer(text: str, content: Content) -> Reply:
    command, rest = _split(text)
    if not command:
        return help_reply(content)
    handler = _handler(command, content)
    if handler is not None:
        return handler(rest, content)
    topic_id = _topic_named_in(text, content)
    if topic_id is not None:
        return topic_reply(content, topic_id)
    return _free_text(text, content)


def resolve(text: str, content: Content) -> str:
    """The topic id or command `answer` would dispatch `text` to ("" for a search)."""
    command, _ = _split(text[:MAX_TEXT_CHARS])
    if not command:
        return "aide"
    if command in content.aliases:
        return content.aliases[command]
    for name, words_for_it in COMMAND_ALIASES.items():
        if command in words_for_it:
            return name
    return _topic_named_in(text[:MAX_TEXT_CHARS], content) or ""


def help_reply(content: Content) -> Reply:
    return _help_reply(content)


@lru_cache(maxsize=64)
def _help_reply(content: Content) -> Reply:
    lines = [content.messages.help_intro, ""]
    for topic_id, topic in content.topics.items():
        lines.append(f"- `/intra {topic_id}` : {topic.description}")
    for usage, description in COMMAND_HELP.values():
        lines.append(f"- `/intra {usage}` : {description}")
    lines.extend(["", content.messages.help_footer])
    return Reply(cap("\n".join(lines)))


@lru_cache(maxsize=256)
def topic_reply(content: Content, topic_id: str) -> Reply:
    return Reply(topic_markdown(content.topics[topic_id]))


def _split(text: str) -> tuple[str, str]:
    text = text.strip()
    if fold(text).startswith("/intra"):
        text = text[len("/intra") :].strip()
    first, _, rest = text.partition(" ")
    return fold(first).strip(" ?!.,;:«»\"'"), rest.strip()


Handler = Callable[[str, Content], Reply]


def _handler(command: str, content: Content) -> Handler | None:
    if command in content.aliases:
        topic_id = content.aliases[command]
        if topic_id == "ressources":
            return _resources
        return lambda _rest, c: topic_reply(c, topic_id)
    for name, words_for_it in COMMAND_ALIASES.items():
        if command in words_for_it:
            return _COMMANDS[name]
    return None


def _help(_rest: str, content: Content) -> Reply:
    return help_reply(content)


def _search(rest: str, content: Content) -> Reply:
    if not keywords(rest):
        return Reply(
            "Que voulez-vous chercher ? Par exemple : `/intra chercher budget` "
            "ou `/intra chercher entretien annuel`."
        )
    hits = content.index.search(rest)
    if not hits:
        return Reply(
            f"Je n'ai rien trouvé pour « {inline(rest)} ». "
            "Essayez d'autres mots, ou tapez `/intra aide` pour voir les sujets."
        )
    return _search_results(hits, content, intro=f"Résultats pour « {inline(rest)} » :")


def _resources(rest: str, content: Content) -> Reply:
    if not keywords(rest):
        return topic_reply(content, "ressources")
    wanted = set(keywords(rest))
    chosen = [resource for resource, stems in _resource_stems(content) if wanted & stems]
    if not chosen:
        return Reply(
            f"Aucune ressource ne correspond à « {inline(rest)} ». "
            "Tapez `/intra ressources` pour la liste complète, "
            f"ou `/intra chercher {defuse(rest, limit=40, form=Form.CODE)}` pour chercher partout."
        )
    title = f"### Ressources : « {inline(rest)} »"
    return Reply(cap(f"{title}\n\n{resources_markdown(chosen)}"))


@lru_cache(maxsize=16)
def _resource_stems(content: Content) -> tuple[tuple[Resource, frozenset[str]], ...]:
    return tuple(
        (r, _stems(" ".join([r.title, r.description, *r.keywords])))
        for r in content.resources.resources
    )


def _stems(text: str) -> frozenset[str]:
    """Words of `text` and their 4+ letter beginnings, so « budgets » finds « budget »."""
    found = set()
    for word in keywords(text):
        found.add(word)
        found.update(word[:end] for end in range(4, len(word)))
    return frozenset(found)


def _mattermost_only(_rest: str, content: Content) -> Reply:
    return Reply(content.messages.mattermost_only)


_COMMANDS: dict[str, Handler] = {
    "aide": _help,
    "chercher": _search,
    "rejoindre": _mattermost_only,
    "demandes": _mattermost_only,
}


def _topic_named_in(text: str, content: Content) -> str | None:
    """The one topic a short question names (« qui sont les référents ? »), if any."""
    folded = words(text)
    if not folded or len(folded) > MAX_WORDS_FOR_TOPIC:
        return None
    single, multi = _alias_lookup(content)
    named = {single[word] for word in folded if word in single}
    if multi:
        joined = f" {' '.join(folded)} "
        named.update(topic_id for alias, topic_id in multi if alias in joined)
    return named.pop() if len(named) == 1 else None


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


def _free_text(text: str, content: Content) -> Reply:
    hits = content.index.search(text)
    if not hits:
        return _not_understood(text, content)
    reply = _search_results(hits, content, intro="Voici ce que j'ai trouvé :")
    suggestions = _suggestions(text, content) if len(words(text)) == 1 else []
    if suggestions:
        return Reply(cap(f"{_did_you_mean(suggestions)}\n\n{reply.text}"))
    return reply


def _search_results(hits: list[Hit], content: Content, *, intro: str) -> Reply:
    lines = [intro, ""]
    for hit in hits:
        doc = hit.document
        topic = content.topics[doc.topic_id]
        where = "" if doc.title == topic.title else f" ({topic.title})"
        lines.append(
            f"- **{doc.title}**{where} — {_shorten(doc.snippet)} "
            f"[En savoir plus]({doc.url}) · `/intra {doc.topic_id}`"
        )
    return Reply(cap("\n".join(lines)))


def _not_understood(text: str, content: Content) -> Reply:
    message = content.messages.not_understood.replace("{texte}", inline(text))
    suggestions = _suggestions(text, content)
    if suggestions:
        message += f"\n\n{_did_you_mean(suggestions)}"
    return Reply(message + "\n\nTapez `/intra aide` pour voir tout ce que je sais faire.")


def _suggestions(text: str, content: Content) -> list[str]:
    """The commands whose name is closest to the first word typed."""
    command, _ = _split(text)
    sizes, by_bigram = _known_names(content)
    # No name is close to a word more than three times its length (difflib's ratio < 0.6).
    if not command or len(command) > 3 * max(map(len, sizes), default=0):
        return []
    typed = _bigrams(command)
    # difflib is exact but slow; a bigram overlap picks the few names worth comparing.
    shared: dict[str, int] = {}
    for gram in typed:
        for name in by_bigram.get(gram, ()):
            shared[name] = shared.get(name, 0) + 1
    likely = [name for name, n in shared.items() if 4 * n >= len(typed) + sizes[name]]
    close = difflib.get_close_matches(command, likely, n=3, cutoff=0.6)
    return _unique(content.aliases.get(name, _command_of(name)) for name in close)


@lru_cache(maxsize=16)
def _known_names(content: Content) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Each command name's bigram count, and bigram -> the names that contain it."""
    sizes: dict[str, int] = {}
    by_bigram: dict[str, list[str]] = {}
    for name in [*content.aliases, *(w for ws in COMMAND_ALIASES.values() for w in ws)]:
        grams = _bigrams(name)
        sizes[name] = len(grams)
        for gram in grams:
            by_bigram.setdefault(gram, []).append(name)
    return sizes, by_bigram


def _bigrams(word: str) -> frozenset[str]:
    padded = f" {word} "
    return frozenset(padded[i : i + 2] for i in range(len(padded) - 1))


def _did_you_mean(suggestions: list[str]) -> str:
    return "Vouliez-vous dire " + " ou ".join(f"`/intra {name}`" for name in suggestions) + " ?"


def _command_of(word: str) -> str:
    for name, words_for_it in COMMAND_ALIASES.items():
        if word in words_for_it:
            return name
    return word


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
