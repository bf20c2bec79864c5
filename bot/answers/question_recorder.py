"""Questions recorded without slowing the answers: kept in memory, written in batches.

A reply never waits for the store. Each question is queued (bounded) and a background task
writes what is queued in one transaction every `interval` seconds, or as soon as `batch`
questions wait, and once more at shutdown: a crash loses at most the last seconds of records.
When the store fails, the batch is kept and retried with the next one; when the queue is full
(a long store outage under load), new records are dropped and counted, never waited for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from bot.answers.answer import Answer
from bot.answers.question_log import AskedQuestion, QuestionLog

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 1.0  # seconds: what a crash may lose
FLUSH_BATCH = 500  # questions: a flood is written in bounded transactions
CAPACITY = 20_000  # questions held in memory at most (about 2 MB)
DROP_WARNING_EVERY = 10.0  # seconds between two warnings about dropped records


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
        self._pending: deque[AskedQuestion] = deque()
        self._capacity = capacity
        self._full = asyncio.Event()  # `batch` questions wait: write now
        self._writing = asyncio.Lock()  # one transaction at a time, in order
        self.dropped = 0
        self.written = 0
        self._dropped_since_warning = 0
        self._last_warning = 0.0

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def __call__(self, text: str, outcome: Answer) -> None:
        """The conversation's recorder: queues the question and returns at once."""
        if not outcome.answered:
            log.info(
                "event=question_unanswered best_unit=%s score=%.2f",
                outcome.unit_id or "-",
                outcome.score,
            )
        if len(self._pending) >= self._capacity:
            self._drop(1)
            return
        self._pending.append(AskedQuestion.of(text, outcome, self._clock()))
        if len(self._pending) >= self._batch:
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
                    await self.flush()
        finally:
            stopping.cancel()

    async def flush(self) -> None:
        """Write every queued question now (`/intra stats` and shutdown call this)."""
        async with self._writing:
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(self._batch, self.pending))]
                self._full.clear()
                try:
                    await asyncio.to_thread(self._questions.record_many, batch)
                except SQLAlchemyError as error:
                    self._requeue(batch)
                    log.warning(
                        "event=questions_not_recorded pending=%d error=%s hint='kept in memory "
                        "and retried; check the store'",
                        self.pending,
                        error.__class__.__name__,
                    )
                    return
                self.written += len(batch)

    def _requeue(self, batch: list[AskedQuestion]) -> None:
        """Put a failed batch back in front; what no longer fits is dropped, oldest first."""
        room = self._capacity - len(self._pending)
        kept = batch[-room:] if room > 0 else []
        self._drop(len(batch) - len(kept))
        self._pending.extendleft(reversed(kept))

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
