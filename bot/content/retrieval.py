"""BM25F over the answerable units, with field weights and typo tolerance.

Why our own small implementation rather than a library: with a hundred or so short units,
every (term, unit) score is query-independent and is computed once at load; a question
then costs one dictionary look-up per term. `bm25s` would bring numpy and scipy
(hundreds of milliseconds of import for a cold `intra-bot ask`), `rank-bm25` is
unmaintained and scores every document per query.

Typos: a term missing from the vocabulary is looked up by its one-letter
deletions (SymSpell's trick), which finds every vocabulary term at edit distance
one in a number of look-ups linear in the term's length.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cached_property, lru_cache
from operator import itemgetter
from typing import NamedTuple

from bot.content.analysis import MAX_TERMS, Analyzer, content_words
from bot.content.phonetic import sound
from bot.content.shapes import Shapes
from bot.content.units import ITEM, Unit

# Field weights: a paraphrase an editor wrote beats a title, which beats body text.
WEIGHTS = {"questions": 4.0, "title": 3.0, "keywords": 1.0, "text": 1.0, "context": 0.4}
K1, B = 1.2, 0.75
TYPO_FACTOR = 0.8  # a term found through a typo counts a little less
# A term found by its sound (« sertificassion ») counts less still: more of a guess.
SOUND_FACTOR = 0.7
MIN_SOUND_WORD = 5  # « fer » and « faire »: a short word's sound is too many words'
# In a question's coverage, an everyday word (« exactement », « poser », « ligne ») weighs
# this share of its weight: it rarely says what the question is about.
EVERYDAY_FACTOR = 0.5
# The shapes' cosine (0..1) against the words' score scaled to 0..1 (bot/content/shapes.py).
SHAPES_WEIGHT = 0.2
MIN_TYPO_LENGTH = 7  # on stems: a guess on a short word (« demain » -> « demand ») misleads
MAX_TYPO_LENGTH = 24
# On whole words, a typo is looked for from this length: « referant » is « référent », but
# « demain » must not become « demande ».
MIN_TYPO_WORD = 7
# « loral », « lentretien », « dinscription »: an elided article glued to its word.
_GLUED_ELISION = frozenset("cdjlmnst")
_VOWELS = frozenset("aeiouyh")


# NamedTuples, not dataclasses: a question builds a handful of these, and a tuple is
# built several times faster than a frozen dataclass (no `object.__setattr__` per field).
class Match(NamedTuple):
    typed: str  # the word as typed (folded)
    term: str  # the content's term it matched
    weight: float


class Ranked(NamedTuple):
    unit: Unit
    score: float
    matches: tuple[Match, ...]


class Result(NamedTuple):
    """The ranked units for a question, and how much of the question the best one covers."""

    ranked: tuple[Ranked, ...]
    coverage: float  # share of the question's term weight found in the best unit, 0..1
    terms: tuple[tuple[str, str], ...] = ()
    # (word as typed, the content's term it was found as), typos and glued articles read
    found: tuple[tuple[str, str], ...] = ()

    @property
    def best(self) -> Ranked | None:
        return self.ranked[0] if self.ranked else None


class Retriever:
    def __init__(
        self, units: list[Unit], analyzer: Analyzer, everyday: frozenset[str] = frozenset()
    ) -> None:
        self.units = units
        self.analyzer = analyzer
        self.everyday = everyday  # folded everyday French words (bot/content/lexicon.py)
        self.by_id = {unit.id: unit for unit in units}
        fields = [self._fields(unit) for unit in units]
        # BM25F: each field is normalised by its own average length, so a long body
        # does not drown a paraphrase that says exactly what was asked.
        average = {
            name: max(1.0, sum(len(f[name]) for f in fields) / max(len(fields), 1))
            for name in WEIGHTS
        }
        frequency: Counter[str] = Counter(
            term
            for unit, f in zip(units, fields, strict=True)
            for term in {t for terms in [*f.values(), *self._paraphrases(unit)] for t in terms}
        )
        total = len(units)
        self.idf = {
            term: math.log(1 + (total - df + 0.5) / (df + 0.5)) for term, df in frequency.items()
        }
        self.rarest = max(self.idf.values(), default=1.0)
        paraphrases = [self._paraphrases(unit) for unit in units]
        one_question = max(
            1.0, sum(len(q) for p in paraphrases for q in p) / max(1, sum(map(len, paraphrases)))
        )
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        for number, unit_fields in enumerate(fields):
            pseudo: dict[str, float] = defaultdict(float)
            for name, terms in unit_fields.items():
                norm = 1 - B + B * len(terms) / average[name]
                for term, count in Counter(terms).items():
                    pseudo[term] += WEIGHTS[name] * count / norm
            # Each paraphrase is a whole question on its own: a unit with many of them is
            # not less about each, so a term counts in its best paraphrase, normalised by
            # that paraphrase's length.
            best: dict[str, float] = {}
            for question in paraphrases[number]:
                norm = 1 - B + B * len(question) / one_question
                for term, count in Counter(question).items():
                    best[term] = max(best.get(term, 0.0), count / norm)
            for term, tf in best.items():
                pseudo[term] += WEIGHTS["questions"] * tf
            for term, tf in pseudo.items():
                postings[term][number] = self.idf[term] * tf * (K1 + 1) / (tf + K1)
        self.postings = dict(postings)
        self.deletions: dict[str, set[str]] = defaultdict(set)
        for term in self.postings:
            if MIN_TYPO_LENGTH - 1 <= len(term) <= MAX_TYPO_LENGTH:
                for variant in _deletions(term):
                    self.deletions[variant].add(term)
        # The content's words as written (folded), for typos on whole words.
        self.word_terms: dict[str, str] = {}
        for unit in units:
            for field in (unit.title, unit.text, unit.context, *unit.questions, *unit.keywords):
                for word in content_words(field, None):
                    if MIN_TYPO_WORD - 1 <= len(word) <= MAX_TYPO_LENGTH:
                        term = analyzer.term(word)
                        if term in self.postings:
                            self.word_terms.setdefault(word, term)
        self.word_deletions: dict[str, set[str]] = defaultdict(set)
        for word in self.word_terms:
            for variant in _deletions(word):
                self.word_deletions[variant].add(word)

    @cached_property
    def sounds(self) -> dict[str, tuple[str, ...]]:
        """The content's terms by the sound of their words (bot/content/phonetic.py); built
        at the first word that needs it."""
        found: dict[str, set[str]] = defaultdict(set)
        for unit in self.units:
            for field in (unit.title, unit.text, unit.context, *unit.questions, *unit.keywords):
                for word in content_words(field, None):
                    if len(word) >= MIN_SOUND_WORD:
                        term = self.analyzer.term(word)
                        if term in self.postings:
                            found[sound(word)].add(term)
        return {key: tuple(sorted(terms)) for key, terms in found.items()}

    @cached_property
    def shapes(self) -> Shapes:
        """Built at the first question that asks for it: a cold `ask` rarely does."""
        return Shapes(self.units)

    def _paraphrases(self, unit: Unit) -> list[list[str]]:
        return [self.analyzer.content_terms(question) for question in unit.questions]

    def _fields(self, unit: Unit) -> dict[str, list[str]]:
        terms = self.analyzer.content_terms
        return {
            # An item's title is its section's: it is context, not what the item says.
            "questions": [],  # scored one paraphrase at a time (see `_paraphrases`)
            "title": [] if unit.kind == ITEM else terms(unit.title),
            "keywords": [t for k in unit.keywords for t in terms(k)],
            "text": terms(unit.text),
            "context": terms(unit.context),
        }

    def search(
        self,
        text: str,
        *,
        limit: int = 5,
        topic: str | None = None,
        explain: bool = False,
        shapes: bool = False,
    ) -> Result:
        """The best units for `text`, best first.

        The matched words are worked out for the best unit (its coverage decides whether
        to answer), and for every unit returned only when `explain` asks for them. With
        `shapes`, the order also weighs the words' shapes (bot/content/shapes.py); the
        scores stay the words' own.
        """
        pairs = tuple(dict.fromkeys(self.analyzer.pairs(text)))
        expansions: list[tuple[str, str, float]] = []
        found_postings: list[tuple[dict[int, float], float]] = []
        wanted = 0.0
        for typed, term in dict(pairs).items():
            found, weight = self._expand(typed, term)
            wanted += weight
            for known, factor in found:
                expansions.append((typed, known, factor))
                found_postings.append((self.postings[known], factor))
        scores = _sum(found_postings)
        candidates = (
            scores.items()
            if topic is None
            else [(n, s) for n, s in scores.items() if self.units[n].topic_id == topic]
        )
        if shapes:
            candidates = self._with_shapes(dict(candidates), text, topic)
        # A full sort: on the few dozen units a question touches, it beats `heapq.nlargest`.
        best = sorted(candidates, key=itemgetter(1), reverse=True)[:limit]
        if shapes:  # ordered by the fused score, shown with the words' own
            best = [(n, scores.get(n, 0.0)) for n, _ in best]
        units = self.units
        ranked = tuple(
            Ranked(units[n], score, self._matches(n, expansions) if explain or not i else ())
            for i, (n, score) in enumerate(best)
        )
        coverage = 0.0
        if ranked and wanted:
            coverage = min(1.0, sum(m.weight for m in ranked[0].matches) / wanted)
        found_as = tuple(dict.fromkeys((typed, known) for typed, known, _ in expansions))
        return Result(ranked, coverage, pairs, found_as)

    def _with_shapes(
        self, scores: dict[int, float], text: str, topic: str | None
    ) -> list[tuple[int, float]]:
        """Each unit's words score (scaled to the best one's) plus the similarity of its
        shape to the words the content lacks."""
        top = max(scores.values(), default=0.0) or 1.0
        # Only the words the content lacks: the others already count, by their terms.
        missing = [
            w for w in content_words(text)[:MAX_TERMS] if self.analyzer.term(w) not in self.postings
        ]
        similar = self.shapes.similarity(missing) if missing else {}
        numbers = set(scores) | {
            n for n in similar if topic is None or self.units[n].topic_id == topic
        }
        return [
            (n, scores.get(n, 0.0) / top + SHAPES_WEIGHT * similar.get(n, 0.0)) for n in numbers
        ]

    def _matches(self, number: int, expansions: list[tuple[str, str, float]]) -> tuple[Match, ...]:
        """The question's words found in unit `number`, each with its best weight."""
        found: dict[str, Match] = {}
        for typed, known, factor in expansions:
            if number in self.postings[known]:
                weight = self.idf[known] * factor * self._everyday_factor(typed)
                if typed not in found or found[typed].weight < weight:
                    found[typed] = Match(typed, known, weight)
        return tuple(found.values())

    @lru_cache(maxsize=8192)  # noqa: B019 (one retriever per content load; bounded)
    def _expand(self, typed: str, term: str) -> tuple[tuple[tuple[str, float], ...], float]:
        """The content's terms for a word (itself, unglued, or typos), and what it weighs
        in the question's coverage."""
        if term in self.postings:
            found: tuple[tuple[str, float], ...] = ((term, 1.0),)
            weight = self.idf[term]
        elif unglued := self._unglued(typed):
            found, weight = ((unglued, 1.0),), self.idf[unglued]
        else:
            found = tuple(sorted({*self._near(term), *self._near_word(typed)}))
            if not found:
                found = self._sounding(typed)
            # A word the content lacks weighs as its rarest word, even when a word one
            # letter away is found: a guess must not make a question look well covered.
            weight = self.idf.get(term, self.rarest)
        # An everyday word says little of what a question is about, found or not:
        # « c'est quoi exactement ? », « poser des congés dans mon logiciel ».
        return found, weight * self._everyday_factor(typed)

    def _everyday_factor(self, typed: str) -> float:
        return EVERYDAY_FACTOR if typed in self.everyday else 1.0

    def _unglued(self, typed: str) -> str:
        """« loral » -> the term of « oral », when the content has it ("" otherwise)."""
        if len(typed) < 4 or typed[0] not in _GLUED_ELISION or typed[1] not in _VOWELS:
            return ""
        term = self.analyzer.term(typed[1:])
        return term if term in self.postings else ""

    def _near_word(self, typed: str) -> tuple[tuple[str, float], ...]:
        """The terms of the content's words one typo away from the word as typed."""
        if not MIN_TYPO_WORD <= len(typed) <= MAX_TYPO_LENGTH:
            return ()
        close = set(self.word_deletions.get(typed, ()))
        for variant in _deletions(typed):
            if variant in self.word_terms:
                close.add(variant)
            close.update(self.word_deletions.get(variant, ()))
        return tuple((self.word_terms[word], TYPO_FACTOR) for word in close)

    def _sounding(self, typed: str) -> tuple[tuple[str, float], ...]:
        """The terms of the content's words that sound like a word written as heard; none
        for a word of the dictionary (a real word is not a misspelling of another)."""
        if len(typed) < MIN_SOUND_WORD or typed in self.everyday:
            return ()
        return tuple((term, SOUND_FACTOR) for term in self.sounds.get(sound(typed), ()))

    @lru_cache(maxsize=4096)  # noqa: B019 (one retriever per content load; bounded)
    def _near(self, term: str) -> tuple[tuple[str, float], ...]:
        if not MIN_TYPO_LENGTH <= len(term) <= MAX_TYPO_LENGTH:
            return ()
        close = set(self.deletions.get(term, ()))  # a letter missing from what was typed
        for variant in _deletions(term):
            if variant in self.postings:  # a letter too many
                close.add(variant)
            close.update(self.deletions.get(variant, ()))  # a letter swapped or replaced
        return tuple((known, TYPO_FACTOR) for known in sorted(close))


def _sum(found: list[tuple[dict[int, float], float]]) -> dict[int, float]:
    """Unit -> the sum of its contributions. The longest posting list is copied (in C),
    not walked: a common word (« intra », « certification ») costs nothing more."""
    if not found:
        return {}
    found.sort(key=lambda posting: len(posting[0]), reverse=True)
    (first, factor), rest = found[0], found[1:]
    scores = dict(first) if factor == 1.0 else {n: c * factor for n, c in first.items()}
    get = scores.get
    for posting, factor in rest:
        if factor == 1.0:
            for number, contribution in posting.items():
                scores[number] = get(number, 0.0) + contribution
        else:
            for number, contribution in posting.items():
                scores[number] = get(number, 0.0) + contribution * factor
    return scores


def _deletions(term: str) -> Iterable[str]:
    return {term[:i] + term[i + 1 :] for i in range(len(term))}
