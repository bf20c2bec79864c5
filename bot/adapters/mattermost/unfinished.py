"""Questions claimed by a process that died before replying: answered by another, once.

A claim is done only once its reply is on Mattermost (events.py). A process killed in
between leaves it unfinished; once its lease has run out, the store lists it here, and the
post is read back from its channel and handed to the router as catch-up does: the router
takes the claim over and looks for the reply by its key before posting one. Catch-up
alone would not do: it runs at each (re)connection, usually before the lease ran out.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.adapters.mattermost.api import MattermostApi
from bot.adapters.mattermost.events import EventRouter
from bot.adapters.mattermost.websocket import sleep_unless
from bot.answer_claims import Unfinished
from bot.clock import utc_now
from bot.store import Store

log = logging.getLogger(__name__)

PREFIX = "post:"
EVERY = 30.0  # seconds between two looks (one query on the store when all is well)


class UnfinishedAnswers:
    def __init__(
        self,
        api: MattermostApi,
        store: Store,
        router: EventRouter,
        window: timedelta,
        clock: Callable[[], datetime] = utc_now,
        every: float = EVERY,
    ) -> None:
        self._api = api
        self._store = store
        self._router = router
        self._window = window  # catch-up's: older questions are not answered any more
        self._clock = clock
        self._every = every

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.once()
            except Exception as error:  # Mattermost or the store away: the next look
                log.warning("event=unfinished_answers_failed error=%r", str(error)[:200])
            await sleep_unless(stop, self._every)

    async def once(self) -> int:
        """Hand each question left unanswered by a dead holder to the router; how many."""
        now = self._clock()
        left = await asyncio.to_thread(
            self._store.unfinished_answers, PREFIX, now, now - self._window
        )
        if not left:
            return 0
        channels = {channel.id: channel for channel in await self._api.my_channels()}
        handed = 0
        for claim in left:
            channel = channels.get(claim.place)
            post = await self._find(claim) if channel is not None else None
            if channel is not None and post is not None:
                user = await self._api.user(str(post.get("user_id") or ""))
                data = {
                    "channel_type": channel.type,
                    "mentions": "[]",
                    "post": json.dumps(post),
                    "sender_name": f"@{user.username}",
                }
                log.info("event=unfinished_answer post_id=%s channel_id=%s", post["id"], channel.id)
                await self._router({"event": "posted", "data": data, "catchup": True})
            # Not taken by the router: deleted, its channel left, or no longer a question.
            if not await asyncio.to_thread(self._give_up, claim):
                handed += 1
        return handed

    async def _find(self, claim: Unfinished) -> dict[str, object] | None:
        post_id = claim.key.removeprefix(PREFIX)
        # Catch-up may claim a post up to its window after it was written.
        since = int((claim.claimed_at - self._window).timestamp() * 1000)
        for post in await self._api.posts_since(claim.place, since):
            if post.get("id") == post_id and not post.get("delete_at"):
                return dict(post)
        return None

    def _give_up(self, left: Unfinished) -> bool:
        """Mark done a claim nobody took over (still expired): nothing left to answer."""
        claim = self._store.claim_answer(left.key, "gone", self._clock(), timedelta(0))
        if claim is None:
            return False
        self._store.answer_done(claim)
        log.warning("event=unfinished_answer_gone key=%s channel_id=%s", left.key, left.place)
        return True
