"""The shape of words: character n-grams, for what stems and one-typo look-ups miss.

« intraprenariat » (two letters off « intrapreneuriat »), « onbording », « certificaiton »,
« codev » for « codéveloppement », a plural the stemmer cuts differently: each shares most
of its three- and four-letter pieces with the content's word. A TF-IDF vector of those
pieces per unit, compared by cosine with the vector of the words the content lacks, is a
second opinion on which unit a question is about. It costs some tens of microseconds a
question, so the answers ask for it only when the words alone did not settle the question
(bot/answers/answer.py), and the index is built at the first such question.

Measured (issue 20): ranking alone puts a unit with the fact first on 277 of the first two
development sets' 315 in-scope questions, 283 with the shapes at weight 0.2; in the whole
answer, one or two more questions of those sets pass, and the held-out set (its score only)
went from 71.7 % to 72.2 %.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from bot.content.analysis import content_words
from bot.content.units import Unit

SIZES = (3, 4)
_URL = re.compile(r"\S+://\S+|\S+@\S+")


def _grams(words: Iterable[str]) -> Counter[str]:
    grams: Counter[str] = Counter()
    for word in words:
        padded = f" {word} "
        for size in SIZES:
            grams.update(padded[i : i + size] for i in range(len(padded) - size + 1))
    return grams


class Shapes:
    """Character n-gram TF-IDF over what each unit is about (its title, paraphrases and
    keywords: a body text adds little and costs most of the build)."""

    def __init__(self, units: Sequence[Unit]) -> None:
        grams = [_grams(content_words(_URL.sub(" ", _own_text(unit)), None)) for unit in units]
        frequency = Counter(gram for unit_grams in grams for gram in unit_grams)
        self.idf = {g: math.log(len(units) / (1 + df)) + 1 for g, df in frequency.items()}
        self.postings: dict[str, dict[int, float]] = defaultdict(dict)
        for number, unit_grams in enumerate(grams):
            for gram, weight in self._vector(unit_grams).items():
                self.postings[gram][number] = weight

    def _vector(self, grams: Counter[str]) -> dict[str, float]:
        vector = {g: (1 + math.log(n)) * self.idf[g] for g, n in grams.items() if g in self.idf}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        return {g: w / norm for g, w in vector.items()}

    def similarity(self, words: Iterable[str]) -> dict[int, float]:
        """Unit number -> the cosine of its vector with the question's words'."""
        scores: dict[int, float] = defaultdict(float)
        for gram, weight in self._vector(_grams(words)).items():
            for number, unit_weight in self.postings[gram].items():
                scores[number] += weight * unit_weight
        return scores


def _own_text(unit: Unit) -> str:
    return " ".join([unit.title, *unit.questions, *unit.keywords])
