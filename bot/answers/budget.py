"""A fair share of the bot for each person: so many questions a minute, then one « ralentissez ».

A token bucket per person: `burst` questions at once, refilled at `per_minute`. Past it the
person gets one friendly reply saying when the bot answers again, then silence until their
bucket is full again, so that one person's flood never holds everyone else's answers.
Pure: time is passed in (monotonic seconds), nothing is read or written elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from bot.chat import Reply
from bot.content.typography import french

# People followed at once; beyond, the buckets already full again are forgotten first
# (forgetting one is harmless: a full bucket is what a new person gets).
MAX_PEOPLE = 10_000


class Verdict(Enum):
    ANSWER = "answer"
    SLOW_DOWN = "slow_down"  # the one reply that says so
    SILENT = "silent"  # already told: nothing until the bucket is full again


@dataclass
class _Bucket:
    tokens: float
    updated: float
    told: bool = False


class QuestionBudget:
    def __init__(self, per_minute: float, burst: int, *, max_people: int = MAX_PEOPLE) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be > 0 and burst >= 1")
        self.per_second = per_minute / 60.0
        self.burst = burst
        self._max_people = max_people
        self._buckets: dict[str, _Bucket] = {}

    def take(self, person: str, now: float) -> Verdict:
        """Whether `person`'s question at `now` is answered, told to slow down, or not."""
        bucket = self._buckets.get(person)
        if bucket is None:
            self._make_room(now)
            bucket = self._buckets[person] = _Bucket(float(self.burst), now)
        bucket.tokens = self._tokens(bucket, now)
        bucket.updated = now
        if bucket.told and bucket.tokens < self.burst:
            return Verdict.SILENT
        bucket.told = False
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.ANSWER
        bucket.told = True
        return Verdict.SLOW_DOWN

    def refill_seconds(self) -> float:
        """How long an emptied bucket takes to be full again: the silence after « ralentissez »."""
        return self.burst / self.per_second

    def _tokens(self, bucket: _Bucket, now: float) -> float:
        elapsed = max(0.0, now - bucket.updated)
        return min(float(self.burst), bucket.tokens + elapsed * self.per_second)

    def _make_room(self, now: float) -> None:
        if len(self._buckets) < self._max_people:
            return
        full = [p for p, b in self._buckets.items() if self._tokens(b, now) >= self.burst]
        for person in full:
            del self._buckets[person]
        if len(self._buckets) >= self._max_people:  # all busy: the oldest goes
            del self._buckets[next(iter(self._buckets))]


def slow_down(seconds: float) -> Reply:
    """The one reply to a person past their share; `seconds`: until the bot answers again.

    Where the question was asked (a DM, a mention's thread): one post, not a DM and a
    pointer, while the bot is busy; a slash command's is the asker's only (conversation.py)."""
    minutes = max(1, math.ceil(seconds / 60))
    when = "dans une minute" if minutes == 1 else f"dans {minutes} minutes"
    return Reply(
        french(
            "Doucement 🙂 vous m'avez posé beaucoup de questions d'un coup ; "
            f"je vous réponds de nouveau {when}."
        )
    )
