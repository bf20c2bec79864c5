"""« Vouliez-vous dire `/intra referents` ? »: the commands closest to a mistyped word."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from functools import lru_cache

from bot.content import Content


def suggestions(
    command: str, content: Content, commands: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """The topics or commands whose name is closest to `command` (a folded word)."""
    if not command:
        return []
    typed = _bigrams(command)
    # difflib is exact but slow; a bigram overlap picks the few names worth comparing.
    sizes, by_bigram, owners = _known_names(content, tuple(commands.items()))
    shared: dict[str, int] = {}
    for gram in typed:
        for name in by_bigram.get(gram, ()):
            shared[name] = shared.get(name, 0) + 1
    # Dice coefficient of the bigrams >= 0.5; only the five most alike go to difflib.
    dice = {name: 2 * n / (len(typed) + sizes[name]) for name, n in shared.items()}
    likely = sorted((name for name, d in dice.items() if d >= 0.5), key=lambda n: -dice[n])
    close = difflib.get_close_matches(command, likely[:5], n=3, cutoff=0.6)
    return _unique(owners[name] for name in close)


def did_you_mean(names: list[str]) -> str:
    return "Vouliez-vous dire " + " ou ".join(f"`/intra {name}`" for name in names) + " ?"


@lru_cache(maxsize=16)
def _known_names(
    content: Content, commands: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[dict[str, int], dict[str, list[str]], dict[str, str]]:
    """Each name's bigram count, bigram -> the names that contain it, name -> its command."""
    owners = dict(content.aliases)
    for command, names in commands:
        for name in names:
            owners.setdefault(name, command)
    sizes: dict[str, int] = {}
    by_bigram: dict[str, list[str]] = {}
    for name in owners:
        grams = _bigrams(name)
        sizes[name] = len(grams)
        for gram in grams:
            by_bigram.setdefault(gram, []).append(name)
    return sizes, by_bigram, owners


def _bigrams(word: str) -> frozenset[str]:
    padded = f" {word} "
    return frozenset(padded[i : i + 2] for i in range(len(padded) - 1))


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
