"""Upkeep on schedule: forgetting answered-post claims, old questions, finished outbox rows,
requests left open too long and stale named values; recalls and stuck decisions of the
invitations. Each retention is configured (docs/donnees-personnelles.md lists them)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Callable

from bot import named_values
from bot.answers.question_log import QuestionLog
from bot.config import Settings
from bot.invitations.records import InvitationRecords
from bot.invitations.recovery import finish_stuck
from bot.invitations.service import InvitationService
from bot.jobs import JobScheduler
from bot.outbox.store import OutboxStore
from bot.store import Store

log = logging.getLogger(__name__)

# The prefixes of the claims of answered messages: Mattermost posts, Matrix events.
ANSWERED_PREFIXES = ("post:", "matrix:")
# Named values that go stale: what the reactions on a Matrix notice stand for
# (bot/adapters/matrix/notices.py), useless once no request it may be about is left; a
# person's Matrix DM room, once unused for [matrix] dm_retention_days (each use rewrites it,
# bot/adapters/matrix/directs.py). Every other name is kept while it is in use, none of
# them about a person: Mattermost's catch-up marks, the bot's Matrix session, pickle key,
# sync filter, device signature and cross-signing claim, the club feed's last copy.
CHOICES_PREFIX = "matrix.choices:"
DIRECT_PREFIX = "matrix.dm:"


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
        self._claims_kept = dt.timedelta(days=settings.store.claims_retention_days)
        self._effects_kept = dt.timedelta(days=settings.outbox.retention_days)
        self._pending_kept = dt.timedelta(days=settings.invitations.pending_retention_days)
        # A notice's choices outlive every request they may be about, decided or not.
        choices_days = max(
            settings.invitations.retention_days, settings.invitations.pending_retention_days
        )
        self._stale = {
            CHOICES_PREFIX: dt.timedelta(days=choices_days),
            DIRECT_PREFIX: dt.timedelta(days=settings.matrix.dm_retention_days),
        }
        self._clock = clock

    async def forget_answered_posts(self) -> None:
        cutoff = self._clock() - self._claims_kept
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
        cutoff = self._clock() - self._effects_kept
        forgotten = await asyncio.to_thread(self._outbox.purge_finished_before, cutoff)
        log.info("event=outbox_forgotten count=%d before=%s", forgotten, cutoff.isoformat())

    async def forget_abandoned_requests(self, records: InvitationRecords) -> None:
        """Requests nobody decided within their retention: deleted, each logged by id."""
        cutoff = self._clock() - self._pending_kept
        for invitation_id in await asyncio.to_thread(records.purge_pending_before, cutoff):
            log.info(
                "event=invitation_deleted id=%s reason=pending_retention cutoff=%s",
                invitation_id,
                cutoff.isoformat(),
            )

    async def forget_stale_values(self) -> None:
        for prefix, kept in self._stale.items():
            cutoff = self._clock() - kept
            forgotten = await asyncio.to_thread(
                named_values.forget_before, self._store, prefix, cutoff
            )
            log.info(
                "event=values_forgotten prefix=%s count=%d before=%s",
                prefix,
                forgotten,
                cutoff.isoformat(),
            )


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
    scheduler.every(
        86400,
        functools.partial(retention.forget_abandoned_requests, invitations.records),
        "invitations-pending-retention",
    )
    scheduler.every(86400, retention.forget_stale_values, "forget-stale-values")
    # A stuck decision is finished within 1.5 leases; the first look at start-up is soon.
    scheduler.every(
        max(1.0, min(60.0, decision_lease_seconds / 2)),
        functools.partial(finish_stuck, invitations),
        "finish-stuck",
        5.0,
    )
