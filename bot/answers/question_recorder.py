"""Questions recorded without slowing the answers: counted in memory, written in batches.

A reply never waits for the store. An answered question only adds one to the count of its
minute, topic and unit; an unanswered one (its text is kept for the editors) is queued,
bounded. A background task writes what waits in one transaction every `interval` seconds,
or as soon as `batch` questions wait, and once more at shutdown: a crash loses at most the
last seconds of records. When the store fails, what was taken is put back and retried with
the next write; when the queue is full (a long outage under load), new records are dropped
and counted, never waited for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.answers.answer import Answer
from bot.answers.question_log import AskedQuestion, QuestionLog

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 1.0  # seconds: what a crash may lose
FLUSH_BATCH = 2_000  # questions: a flood is written without waiting for the interval
CAPACITY = 50_000  # records held in memory at most (unanswered texts and answered counts)
DROP_WARNING_EVERY = 10.0  # seconds between two warnings about dropped records

CountKey = tuple[datetime, str, str, float]  # minute, topic, unit, score
MINUTE = timedelta(minutes=1)


class QuestionRecorder:
    def __init__(
        self,
        questions: QuestionLog,
        clock: Callable[[], datetime],
        *,
        interval: float = FLUSH_INTERVAL,
        batch: int = FLUSH_BATCH,
        capacity: int = CAPACITY,
    ) -> None:
        self._questions = questions
        self._clock = clock
        self._interval = interval
        self._batch = batch
        self._capacity = capacity
        self._counts: dict[CountKey, int] = {}  # answered questions, per minute
        self._texts: deque[AskedQuestion] = deque()  # unanswered questions, one by one
        self._waiting = 0  # questions recorded since the last write began
        # The minute answered questions are counted in, found again without a replace().
        self._minute = datetime.min.replace(tzinfo=UTC)
        self._next_minute = self._minute
        self._full = asyncio.Event()  # `batch` questions wait: write now
        self._writing = asyncio.Lock()  # one transaction at a time, in order
        self.dropped = 0
        self.written = 0
        self._dropped_since_warning = 0
        self._last_warning = 0.0

    @property
    def pending(self) -> int:
        """Questions waiting to be written."""
        return sum(self._counts.values()) + len(self._texts)

    def __call__(self, text: str, outcome: Answer) -> None:
        """The conversation's recorder: counts or queues the question and returns at once."""
        now = self._clock()
        if outcome.answered:
            if not self._minute <= now < self._next_minute:
                self._minute = now.replace(second=0, microsecond=0)
                self._next_minute = self._minute + MINUTE
            key = (self._minute, outcome.topic_id, outcome.unit_id, outcome.score)
            count = self._counts.get(key)
            if count is None and self._held() >= self._capacity:
                self._drop(1)
                return
            self._counts[key] = (count or 0) + 1
        else:
            log.info(
                "event=question_unanswered best_unit=%s score=%.2f",
                outcome.unit_id or "-",
                outcome.score,
            )
            if self._held() >= self._capacity:
                self._drop(1)
                return
            self._texts.append(AskedQuestion.of(text, outcome, now))
        self._waiting += 1
        if self._waiting >= self._batch:
            self._full.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Write what waits, every interval or every batch, until `stop` is set."""
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                full = asyncio.ensure_future(self._full.wait())
                await asyncio.wait(
                    (stopping, full), timeout=self._interval, return_when=asyncio.FIRST_COMPLETED
                )
                full.cancel()
                if not stop.is_set():
                    try:
                        await self.flush()
                    except Exception:  # a bug here must not end the recording for good
                        log.exception("event=questions_flush_failed")
        finally:
            stopping.cancel()

    async def flush(self) -> None:
        """Write what was recorded so far (`/intra stats` and shutdown call this too).

        Only that: questions that arrive during the write wait for the next one, so a steady
        flow is written in a few transactions, not a stream of small ones.
        """
        async with self._writing:
            counts, self._counts = self._counts, {}
            texts = list(self._texts)
            self._texts.clear()
            self._waiting = 0
            self._full.clear()
            if not counts and not texts:
                return
            rows = texts + [
                AskedQuestion(minute, True, topic_id, unit_id, round(score, 3), "", times)
                for (minute, topic_id, unit_id, score), times in counts.items()
            ]
            try:
                await asyncio.to_thread(self._questions.record_many, rows)
            except SQLAlchemyError as error:
                self._put_back(counts, texts)
                log.warning(
                    "event=questions_not_recorded pending=%d error=%s hint='kept in memory "
                    "and retried; check the store'",
                    self.pending,
                    error.__class__.__name__,
                )
                return
            self.written += len(texts) + sum(counts.values())

    def _held(self) -> int:
        return len(self._counts) + len(self._texts)

    def _put_back(self, counts: dict[CountKey, int], texts: list[AskedQuestion]) -> None:
        """A failed write's records back in front; what no longer fits is dropped, oldest first."""
        for key, times in counts.items():
            if key in self._counts or self._held() < self._capacity:
                self._counts[key] = self._counts.get(key, 0) + times
            else:
                self._drop(times)
        room = max(self._capacity - self._held(), 0)
        kept = texts[len(texts) - room :] if room < len(texts) else texts
        self._drop(len(texts) - len(kept))
        self._texts.extendleft(reversed(kept))

    def _drop(self, count: int) -> None:
        if count <= 0:
            return
        self.dropped += count
        self._dropped_since_warning += count
        now = time.monotonic()
        if now - self._last_warning >= DROP_WARNING_EVERY:
            log.warning(
                "event=questions_dropped count=%d total=%d capacity=%d hint='the store is "
                "too slow or down; replies are not affected'",
                self._dropped_since_warning,
                self.dropped,
                self._capacity,
            )
            self._last_warning = now
            self._dropped_since_warning = 0
