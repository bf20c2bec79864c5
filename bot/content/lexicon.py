"""Which French words are everyday words: the most frequent words of pyspellchecker's
French frequency list (a maintained package; its list counts words in a large corpus of
everyday French).

The answers use it twice. A word of the content that is *not* an everyday word
(« présentiel », « investigation », « codéveloppement ») ties a question to the community's
subjects; an everyday word (« temps », « horaires », « taux ») does not. And a word the
content lacks weighs less in a question when it is an everyday word (« exactement »,
« maintenant ») than when it names something else (« passeport », « livret »).

Reading the package's list takes a quarter of a second; the few thousand words kept are
written once to the user's cache (keyed by the package's version and the size kept), so a
cold `intra-bot ask` reads a small text file instead.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path

from bot.text import fold

# The this-many most frequent words are « everyday »: « clinique » is (rank ≈ 2,700 of
# 140,000), « investigation » (≈ 19,900) and « certification » (≈ 30,800) are not.
EVERYDAY_SIZE = 12000
PACKAGE = "pyspellchecker"


@lru_cache(maxsize=1)
def everyday_words() -> frozenset[str]:
    """The folded everyday French words."""
    path = _cache_path()
    try:
        return frozenset(path.read_text(encoding="utf-8").split())
    except OSError:
        pass
    words = _from_package()
    _write(path, "\n".join(sorted(words)))
    return words


def _from_package() -> frozenset[str]:
    data = resources.files("spellchecker").joinpath("resources", "fr.json.gz").read_bytes()
    counts: dict[str, int] = json.loads(gzip.decompress(data))
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return frozenset(fold(word) for word, _ in ranked[:EVERYDAY_SIZE])


def _cache_path() -> Path:
    root = os.environ.get("INTRA_BOT_CACHE") or os.environ.get("XDG_CACHE_HOME")
    base = Path(root) if root else Path.home() / ".cache"
    if not os.environ.get("INTRA_BOT_CACHE"):
        base = base / "intra-bot"
    version = metadata.version(PACKAGE)
    return base / "lexicon" / f"fr-everyday-{version}-{EVERYDAY_SIZE}.txt"


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
