"""Questions claimed by a process that died before replying: answered by another, once.

A claim is done only once its reply is sent (events.py). A process killed in between
leaves it unfinished, and the sync will not bring the question again once its token has
moved on (the batch finished, or the question waited off the loop for its room key). So,
once the sync is live, the store's unfinished claims whose lease has run out are looked
at: the question is fetched by its id from the room kept in the claim and handed to the
router again, which takes the claim over and looks for the reply by its key first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from mautrix.client import Client
from mautrix.errors import MatrixRequestError
from mautrix.types import EncryptedEvent, EventID, MessageEvent, RoomID

from bot.adapters.matrix.events import MatrixEventRouter
from bot.answer_claims import Unfinished
from bot.clock import utc_now
from bot.store import Store

log = logging.getLogger(__name__)

PREFIX = "matrix:"
EVERY = 30.0  # seconds between two looks (one query on the store when all is well)
WINDOW = timedelta(hours=24)  # older questions are not answered any more


class UnfinishedQuestions:
    def __init__(
        self,
        client: Client,
        store: Store,
        router: MatrixEventRouter,
        clock: Callable[[], datetime] = utc_now,
        every: float = EVERY,
    ) -> None:
        self._client = client
        self._store = store
        self._router = router
        self._clock = clock
        self._every = every

    async def run(self, stop: asyncio.Event, live: asyncio.Event) -> None:
        """Once the sync is live (the router takes questions), look every `every` s."""
        await live.wait()
        while not stop.is_set():
            try:
                await self.once()
            except Exception as error:  # the homeserver or the store away: the next look
                log.warning("event=matrix_unfinished_failed error=%r", str(error)[:200])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)

    async def once(self) -> int:
        """Hand each question left unanswered by a dead holder to the router; how many."""
        now = self._clock()
        left = await asyncio.to_thread(self._store.unfinished_answers, PREFIX, now, now - WINDOW)
        handed = 0
        for claim in left:
            event_id = EventID(claim.key.removeprefix(PREFIX))
            try:
                event = await self._client.get_event(RoomID(claim.place), event_id)
            except MatrixRequestError as error:
                if error.http_status not in (403, 404):
                    raise
                event = None  # gone, or the room left
            log.info("event=matrix_unfinished_answer event_id=%s", event_id)
            if isinstance(event, EncryptedEvent):
                await self._router.on_encrypted(event)
                await self._router.drain()  # in case it waits for its room key
            elif isinstance(event, MessageEvent):
                await self._router.on_message(event)
            # Not taken by the router: gone, redacted or no longer a question.
            if not await asyncio.to_thread(self._give_up, claim):
                handed += 1
        return handed

    def _give_up(self, left: Unfinished) -> bool:
        """Mark done a claim nobody took over (still expired): nothing left to answer."""
        claim = self._store.claim_answer(left.key, "gone", self._clock(), timedelta(0))
        if claim is None:
            return False
        self._store.answer_done(claim)
        log.warning("event=matrix_unfinished_gone key=%s room_id=%s", left.key, left.place)
        return True
