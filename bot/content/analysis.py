"""French text -> search terms: fold accents and case, drop elisions and stop words, stem.

The same analysis runs on the content (once, at load) and on every question, so
« coûte », « Coute » and « coûtent » meet on one term. Work is linear in the input
and bounded: only the first `MAX_QUESTION_CHARS` characters are looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

import Stemmer  # PyStemmer: the Snowball stemmers in C (no type hints: see pyproject)

from bot.content.informal import spelled_out, standard
from bot.text import fold

# A question longer than this is cut before analysis: the words that matter come
# first, and the cost of a reply must not grow with what a user pastes.
MAX_QUESTION_CHARS = 400
MAX_TERMS = 40

_WORD = re.compile(r"[a-z0-9]+")
# l'oral, d'évaluation, qu'est-ce, jusqu'où, lorsqu'il: the elided article says nothing.
_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['’]")

# French function words and question words (plus the English ones people type out of
# habit), and the community's own name (« beta.gouv.fr » is in every reply and e-mail
# address: it tells no unit from another). A stop word can never be found, so content
# words stay out of this list.
STOP_WORDS = frozenset(
    " ".join(
        (
            "a ai aie as au aux avec avez avons avoir c ca ce ceci cela celle celles celui ces cet",
            "cette chaque chez comme comment d dans de des deja dois doit donc dont du elle elles",
            "en encore es est et etaient etait ete etes etre eu fait faire faut fera fois i il ils",
            "j je jusqu l la le les leur leurs lui m ma mais me meme mes moi mon n ne ni nos notre",
            "nous on ont ou par pas peu peut peux plus pour pourquoi puis puisqu qu quand que quel",
            "quelle quelles quels qui quoi s sa sans se sera ses si sois soit son sont suis sur t",
            "ta te tes toi ton tous tout toute toutes tu un une vais veux voila vos votre vous y",
            "svp stp merci bonjour salut hello alors bien bah ben oui non ok the of to is are a an",
            "what how who where when which do does can i my me at for in on and or it this that be",
            "with get got aujourd hui beta gouv betagouv",
        )
    ).split()
)

_STEMMER = Stemmer.Stemmer("french")


def words(text: str, limit: int | None = MAX_QUESTION_CHARS) -> tuple[str, ...]:
    """The folded words of the first `limit` characters, elisions removed."""
    return _words(text[:limit])


def content_words(text: str, limit: int | None = MAX_QUESTION_CHARS) -> tuple[str, ...]:
    """`words` without stop words and one-letter words."""
    return _content_words(text[:limit])


# A question is analysed several times on its way (command? topic? search?): once is enough.
@lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    typed = _WORD.findall(_ELISION.sub(" ", fold(spelled_out(text))))
    return tuple(word for each in typed for word in standard(each))


@lru_cache(maxsize=4096)
def _content_words(text: str) -> tuple[str, ...]:
    return tuple(w for w in _words(text) if len(w) > 1 and w not in STOP_WORDS)


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """The Snowball French stem of a folded word: « certifications » -> « certif »."""
    return str(_STEMMER.stemWord(word))


class Analyzer:
    """Text -> terms, with the content's synonyms mapped onto one term per group."""

    def __init__(self, synonyms: Mapping[str, str] | None = None) -> None:
        self.synonyms = dict(synonyms or {})

    @classmethod
    def with_groups(cls, groups: Iterable[Iterable[str]]) -> Analyzer:
        """Each group's words all become the first word's term."""
        table: dict[str, str] = {}
        for group in groups:
            stems = [stem(w) for word in group for w in words(word)]
            if stems:
                for term in stems:
                    table.setdefault(term, stems[0])
        return cls(table)

    def terms(self, text: str) -> list[str]:
        """The search terms of a question, in order, at most `MAX_TERMS`."""
        return [self.term(word) for word in content_words(text)[:MAX_TERMS]]

    def content_terms(self, text: str) -> list[str]:
        """The terms of content text, all of it (the content is ours, not a user's)."""
        return [self.term(word) for word in content_words(text, None)]

    def term(self, word: str) -> str:
        stemmed = stem(word)
        return self.synonyms.get(stemmed, stemmed)

    def pairs(self, text: str) -> list[tuple[str, str]]:
        """(word as typed, folded; its term): what `--explain` shows."""
        return [(word, self.term(word)) for word in content_words(text)[:MAX_TERMS]]
