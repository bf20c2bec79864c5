"""Upkeep on schedule: forgetting answered-post claims, old questions and finished outbox
rows; recalls and stuck decisions of the invitations."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Callable

from bot.answers.question_log import QuestionLog
from bot.config import Settings
from bot.invitations.recovery import finish_stuck
from bot.invitations.service import InvitationService
from bot.jobs import JobScheduler
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


def schedule_upkeep(
    scheduler: JobScheduler,
    invitations: InvitationService,
    retention: Retention,
    decision_lease_seconds: float,
) -> None:
    """The periodic jobs besides the reminders: recalls, stuck decisions, forgetting."""
    scheduler.every(3600, invitations.recall, "invitations-recall")
    scheduler.every(3600, invitations.check_referents, "referents-check")
    scheduler.every(86400, invitations.purge, "invitations-retention")
    scheduler.every(86400, retention.forget_answered_posts, "forget-answered-posts")
    scheduler.every(86400, retention.forget_old_questions, "questions-retention")
    scheduler.every(86400, retention.forget_finished_effects, "forget-finished-effects")
    # A stuck decision is finished within 1.5 leases; the first look at start-up is soon.
    scheduler.every(
        max(1.0, min(60.0, decision_lease_seconds / 2)),
        functools.partial(finish_stuck, invitations),
        "finish-stuck",
        5.0,
    )
