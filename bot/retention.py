"""Forgetting on schedule: answered-post claims, old questions, finished outbox rows."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from bot.answers.question_log import QuestionLog
from bot.config import Settings
from bot.outbox.store import OutboxStore
from bot.store import Store

log = logging.getLogger(__name__)

# Replays only come within minutes of a drop; a month of memory is plenty.
CLAIMS_KEPT = dt.timedelta(days=30)
EFFECTS_KEPT = dt.timedelta(days=30)
# The prefixes of the claims of answered messages: Mattermost posts, Matrix events.
ANSWERED_PREFIXES = ("post:", "matrix:")


class Retention:
    def __init__(
        self,
        store: Store,
        questions: QuestionLog,
        outbox: OutboxStore,
        settings: Settings,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._store = store
        self._questions = questions
        self._outbox = outbox
        self._questions_kept = dt.timedelta(days=settings.answers.retention_days)
        self._clock = clock

    async def forget_answered_posts(self) -> None:
        cutoff = self._clock() - CLAIMS_KEPT
        for prefix in ANSWERED_PREFIXES:
            forgotten = await asyncio.to_thread(self._store.forget_events_before, cutoff, prefix)
            log.info(
                "event=answered_posts_forgotten prefix=%s count=%d before=%s",
                prefix,
                forgotten,
                cutoff.isoformat(),
            )

    async def forget_old_questions(self) -> None:
        cutoff = self._clock() - self._questions_kept
        deleted = await asyncio.to_thread(self._questions.purge_before, cutoff)
        log.info("event=questions_forgotten count=%d before=%s", deleted, cutoff.isoformat())

    async def forget_finished_effects(self) -> None:
        cutoff = self._clock() - EFFECTS_KEPT
        forgotten = await asyncio.to_thread(self._outbox.purge_finished_before, cutoff)
        log.info("event=outbox_forgotten count=%d before=%s", forgotten, cutoff.isoformat())
