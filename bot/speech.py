"""Replies in the words of the platform they go to. Pure.

The content and the core write one spelling, Mattermost's: the command `/intra …` in a
code span, the community's channels `~domaine-intrapreneurs` and `~domaine-intras-prive`,
and a referent's every account (« · sur Mattermost : `@x` · sur Tchap : `@x:serveur` »).
`speak` rewrites a reply for the `Dialect` of the platform it goes to: its command word,
its names for those two channels, only the account on that platform. The console's
dialect (the default) changes nothing: it speaks for both.

A channel in bold (« **~canal** ») is the subject of its line (the channels topic lists
the Mattermost channels by name, on every platform): it stays as it is.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from bot.chat import CONSOLE_DIALECT, Dialect, Reply
from bot.config import DEFAULT_PRIVATE_CHANNEL, DEFAULT_PUBLIC_CHANNEL
from bot.content.units import ACCOUNT_SHOWN

# The command word the content writes, at the start of a code span: « `/intra aide` ».
CANONICAL_COMMAND = "/intra"
_COMMAND = re.compile(r"`/intra(?=[\s`])")
# A Mattermost channel named in prose: not in bold, not part of a word, a path or an alias.
_CHANNEL = re.compile(r"(?<![\w*~#/-])~(?P<name>[a-z0-9][a-z0-9_-]*)")


def place(channel: str) -> str:
    """A platform's channel as people read it: « ~name » on Mattermost, a Matrix room's
    alias or id (« #name:serveur », « !id:serveur ») as it is."""
    return channel if channel.startswith(("#", "!")) else f"~{channel}"


@lru_cache(maxsize=512)  # a cached reply stays the same object: adapters' caches find it
def speak(reply: Reply, dialect: Dialect) -> Reply:
    """`reply` as people of the platform of `dialect` read it (its text and its cards)."""
    if dialect == CONSOLE_DIALECT:
        return reply
    text = speak_text(reply.text, dialect)
    cards = tuple(replace(card, text=speak_text(card.text, dialect)) for card in reply.cards)
    if text == reply.text and cards == reply.cards:
        return reply
    return replace(reply, text=text, cards=cards)


def speak_text(text: str, dialect: Dialect) -> str:
    if dialect.command != CANONICAL_COMMAND:
        text = _COMMAND.sub(lambda _match: f"`{dialect.command}", text)
    channels = {
        DEFAULT_PUBLIC_CHANNEL: dialect.public_channel,
        DEFAULT_PRIVATE_CHANNEL: dialect.private_channel,
    }

    def channel(match: re.Match[str]) -> str:
        return place(channels.get(match["name"]) or match["name"])

    text = _CHANNEL.sub(channel, text)
    if dialect.label:
        text = ACCOUNT_SHOWN.sub(
            lambda match: match[0] if match["label"] == dialect.label else "", text
        )
    return text
