"""« Vouliez-vous dire `/intra referents` ? »: the commands closest to a mistyped word."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from heapq import nlargest
from itertools import chain

from bot.content.loader import Content


def suggestions(
    command: str, content: Content, commands: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """The topics or commands whose name is closest to `command` (a folded word)."""
    if not command:
        return []
    typed = _bigrams(command)
    # A bigram overlap picks the few names worth comparing letter by letter.
    sizes, by_bigram, owners = _known_names(content, tuple(commands.items()))
    shared = Counter(chain.from_iterable(by_bigram.get(gram, ()) for gram in typed))
    # Dice coefficient of the bigrams >= 0.5; only the five most alike are compared.
    dice = {name: 2 * n / (len(typed) + sizes[name]) for name, n in shared.items()}
    likely = nlargest(5, (name for name, d in dice.items() if d >= 0.5), key=dice.__getitem__)
    alike = [(similarity(command, name), name) for name in likely]
    close = [name for score, name in sorted(alike, key=lambda a: -a[0]) if score >= CUTOFF][:3]
    return _unique(owners[name] for name in close)


# difflib's cutoff for « close enough », on the same 0..1 scale.
CUTOFF = 0.6


def similarity(a: str, b: str) -> float:
    """2 * (longest common subsequence) / (len(a) + len(b)): difflib's `ratio` scale,
    without its cost (difflib builds a matcher and recurses on blocks for each pair).

    The common subsequence is counted bit-parallel (Allison-Dix, Hyyrö): one pass over
    `b` with a few integer operations per letter, each integer a bit-set of `a`'s letters.
    """
    if not a or not b:
        return 0.0
    where: dict[str, int] = {}
    for i, letter in enumerate(a):
        where[letter] = where.get(letter, 0) | 1 << i
    full = (1 << len(a)) - 1
    row = full
    for letter in b:
        matched = row & where.get(letter, 0)
        row = ((row + matched) | (row - matched)) & full
    common = len(a) - row.bit_count()
    return 2 * common / (len(a) + len(b))


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
