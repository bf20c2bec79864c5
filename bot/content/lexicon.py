"""Which French words are everyday words: the most frequent words of pyspellchecker's
French frequency list (a maintained package; its list counts words in a large corpus of
everyday French).

The answers use it twice. A word of the content that is *not* an everyday word
(« présentiel », « investigation », « codéveloppement ») ties a question to the community's
subjects; an everyday word (« temps », « horaires », « taux ») does not. And a word the
content lacks weighs less in a question when it is an everyday word (« exactement »,
« maintenant ») than when it names something else (« passeport », « livret »).

Reading the package's list takes a quarter of a second; the few thousand words kept are
written once to the user's cache (keyed by the list file's size and date and the size kept), so a
cold `intra-bot ask` reads a small text file instead.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from bot.content.analysis import stem
from bot.text import fold

# The this-many most frequent words are « everyday »: « clinique » is (rank ≈ 2,700 of
# 140,000), « investigation » (≈ 19,900) and « certification » (≈ 30,800) are not.
EVERYDAY_SIZE = 12000


def forget() -> None:
    """Read the cache again at the next call (tests)."""
    for cached in (everyday_words, everyday_stems, _everyday):
        cached.cache_clear()


@lru_cache(maxsize=1)
def everyday_words() -> frozenset[str]:
    """The folded everyday French words."""
    return frozenset(_everyday())


@lru_cache(maxsize=1)
def everyday_stems() -> frozenset[str]:
    """Their Snowball stems (kept in the cache too: stemming 12,000 words costs 70 ms)."""
    return frozenset(_everyday().values())


@lru_cache(maxsize=1)
def _everyday() -> dict[str, str]:
    """Folded everyday word -> its stem."""
    path = _cache_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    cached = dict(line.split(" ", 1) for line in lines[1:] if " " in line)
    if lines and lines[0] == f"# {len(cached)}":  # a cache cut short is built again
        return cached
    words = {word: stem(word) for word in _from_package()}
    entries = [f"{word} {stemmed}" for word, stemmed in sorted(words.items())]
    _write(path, "\n".join([f"# {len(entries)}", *entries]))
    return words


def _word_list() -> Traversable:
    return resources.files("spellchecker").joinpath("resources", "fr.json.gz")


def _from_package() -> frozenset[str]:
    data = _word_list().read_bytes()
    counts: dict[str, int] = json.loads(gzip.decompress(data))
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return frozenset(fold(word) for word, _ in ranked[:EVERYDAY_SIZE])


def _cache_path() -> Path:
    root = os.environ.get("INTRA_BOT_CACHE") or os.environ.get("XDG_CACHE_HOME")
    base = Path(root) if root else Path.home() / ".cache"
    if not os.environ.get("INTRA_BOT_CACHE"):
        base = base / "intra-bot"
    # Keyed by the list's own size and date: a new version of the package, a new cache (and
    # no look-up of the package's metadata, which costs a cold `ask` 70 ms).
    listed = Path(str(_word_list())).stat()
    return (
        base
        / "lexicon"
        / f"fr-everyday-{listed.st_size}-{listed.st_mtime_ns}-{EVERYDAY_SIZE}-stems.txt"
    )


def _write(path: Path, text: str) -> None:
    """Best effort: a cache that cannot be written (read-only home) only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, delete=False, prefix=".lexicon-"
        ) as handle:
            handle.write(text)
    except OSError:
        return
    try:
        os.replace(handle.name, path)
    except OSError:
        Path(handle.name).unlink(missing_ok=True)
