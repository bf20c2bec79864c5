"""Catch-up: what was posted while the bot was not listening, handled as if it were live.

The websocket only delivers what happens while it is connected; when the server has
forgotten our connection (its restart) or the bot itself was down, the posts made
meanwhile are never pushed. So the bot keeps, in the store, how far it has handled
events (a high-water mark in the server's milliseconds), and on every fresh websocket
start (the first one included) it lists its channels and, for each one with a post since
then, reads those posts back (`pages.read_back`) and hands them to the same router as live
events. The router claims each post before answering it, so a post seen both live and
here is answered once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.adapters.mattermost.api import ChannelInfo, MattermostApi, MattermostApiError
from bot.adapters.mattermost.events import EventRouter
from bot.clock import utc_now
from bot.store import Store

log = logging.getLogger(__name__)

MARK = "mattermost:handled_until_ms"
# When this store first listened: nothing before it is this bot's business.
FIRST = "mattermost:listening_since_ms"
# Look a little before the mark: events handled concurrently may finish out of order.
OVERLAP_MS = 60_000
FLUSH_EVERY = 2.0  # seconds between two writes of the mark (losing them only means re-reading)
JOIN_TYPES = ("system_join_channel", "system_add_to_channel")


@dataclass(frozen=True)
class CatchUpReport:
    since_ms: int
    channels: int
    posts: int  # posts addressed to the bot that were handed to the router
    joins: int


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class CatchUp:
    def __init__(
        self,
        api: MattermostApi,
        store: Store,
        router: EventRouter,
        public_channel_id: str,
        window: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._api = api
        self._store = store
        self._router = router
        self._public = public_channel_id
        self._window = window
        self._clock = clock
        self._latest = 0
        self._flushed_at = 0.0
        self._lock = asyncio.Lock()
        # Until a catch-up has read the mark, live events must not move it past the gap.
        self._paused = True
        self._tasks: set[asyncio.Task[None]] = set()

    def fresh(self) -> None:
        """The websocket started afresh (called before its first event is handled)."""
        self._paused = True
        task = asyncio.create_task(self.run_with_retries())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run_with_retries(self, attempts: int = 6) -> None:
        for attempt in range(attempts):
            try:
                await self.run()
                return
            except Exception as error:  # Mattermost still waking up: try again shortly
                wait = 2.0 ** (attempt + 1)
                log.warning(
                    "event=catchup_failed attempt=%d retry_in=%.0f error=%r",
                    attempt + 1,
                    wait,
                    str(error)[:200],
                )
                await asyncio.sleep(wait)
        log.error("event=catchup_gave_up hint='the next reconnection will try again'")

    async def drain(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def handle(self, event: dict[str, Any]) -> None:
        """The websocket's handler: the router, then the mark moves past this post."""
        await self._router(event)
        if event.get("event") == "posted":
            try:
                post = json.loads((event.get("data") or {}).get("post") or "{}")
                created = int(post.get("create_at") or 0)
            except (ValueError, TypeError, AttributeError, RecursionError):
                return
            await self._seen(created)

    async def _seen(self, created_ms: int) -> None:
        self._latest = max(self._latest, created_ms)
        if not self._paused and time.monotonic() - self._flushed_at >= FLUSH_EVERY:
            await self.flush()

    async def flush(self) -> None:
        """Write the mark, unless a catch-up has yet to read it."""
        if not self._paused:
            await self._write()

    async def _write(self) -> None:
        """Write the mark (never backwards: another replica may be ahead)."""
        latest = self._latest
        if not latest:
            return
        self._flushed_at = time.monotonic()
        try:
            stored = await asyncio.to_thread(self._stored)
            if stored is None or latest > stored:
                await asyncio.to_thread(self._store.set_value, MARK, str(latest))
        except Exception as error:  # a mark left behind only means reading more next time
            log.warning("event=catchup_mark_not_saved error=%r", str(error)[:200])

    def _stored(self) -> int | None:
        raw = self._store.get_value(MARK)
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return None

    async def run(self) -> CatchUpReport | None:
        """Hand every post made since the mark to the router; None on the very first start."""
        async with self._lock:  # two quick reconnects: the second waits, then finds little
            now_ms = epoch_ms(self._clock())
            stored = await asyncio.to_thread(self._stored)
            if stored is None:
                # A new store: nothing was missed by *this* bot; answering a day of other
                # people's history would surprise everyone.
                await asyncio.to_thread(self._store.set_value, FIRST, str(now_ms))
                self._latest = max(self._latest, now_ms)
                self._paused = False
                await self._write()
                log.info("event=catchup_skipped reason=new_store mark=%d", now_ms)
                return None
            floor = now_ms - int(self._window.total_seconds() * 1000)
            first = await asyncio.to_thread(self._store.get_value, FIRST)
            since = max(stored - OVERLAP_MS, floor, int(first or 0))
            if stored - OVERLAP_MS < floor:
                log.warning(
                    "event=catchup_window_exceeded mark=%d floor=%d hint='posts older than "
                    "mattermost.catchup_hours are not answered'",
                    stored,
                    floor,
                )
            started = time.monotonic()
            # One request lists them all (the server streams every channel); only those
            # with a post since the mark are read, so a bot in hundreds of quiet DMs
            # reads one or two.
            listed = await self._api.my_channels()
            channels = [c for c in listed if c.last_post_at >= since]
            posts = joins = 0
            usernames: dict[str, str] = {}
            for channel in channels:
                try:
                    handled, joined = await self._channel(channel, since, usernames)
                except MattermostApiError as error:
                    if error.status not in (403, 404):
                        raise
                    # Left or archived between the list and the read: the others still count.
                    log.warning(
                        "event=catchup_channel_skipped channel_id=%s status=%d",
                        channel.id,
                        error.status,
                    )
                    continue
                posts += handled
                joins += joined
            self._latest = max(self._latest, since)
            self._paused = False
            await self._write()
            log.info(
                "event=catchup_done since=%d listed=%d channels=%d posts=%d joins=%d seconds=%.2f",
                since,
                len(listed),
                len(channels),
                posts,
                joins,
                time.monotonic() - started,
            )
            return CatchUpReport(since, len(channels), posts, joins)

    async def _channel(
        self, channel: ChannelInfo, since: int, usernames: dict[str, str]
    ) -> tuple[int, int]:
        posts = sorted(
            await self._api.posts_since(channel.id, since),
            key=lambda post: int(post.get("create_at") or 0),
        )
        handled = joins = 0
        for post in posts:
            created = int(post.get("create_at") or 0)
            if created < since or post.get("delete_at"):
                continue  # an old post edited since, or a deleted one
            self._latest = max(self._latest, created)
            if channel.id == self._public and post.get("type") in JOIN_TYPES:
                joins += await self._join(post)
                continue
            data = {"channel_type": channel.type, "mentions": "[]"}
            try:
                addressed = self._router.addressed_text(post, data) is not None
                encoded = json.dumps(post) if addressed else ""
            except RecursionError:  # parsed, but too deep to pass on: this post only is skipped
                log.warning(
                    "event=post_skipped reason=nested_too_deeply post_id=%s", post.get("id")
                )
                continue
            if not addressed:
                continue
            user_id = str(post.get("user_id") or "")
            if user_id not in usernames:
                usernames[user_id] = (await self._api.user(user_id)).username
            data = {**data, "post": encoded, "sender_name": f"@{usernames[user_id]}"}
            log.info(
                "event=catchup_post post_id=%s channel_id=%s created=%d",
                post.get("id"),
                channel.id,
                created,
            )
            await self._router({"event": "posted", "data": data, "catchup": True})
            handled += 1
        return handled, joins

    async def _join(self, post: dict[str, Any]) -> int:
        props = post.get("props") or {}
        # A join is posted by the joiner; an add by the adder, naming who was added.
        added = props.get("addedUserId")  # a str from the server; anything else is not repeated
        user_id = added if isinstance(added, str) and added else str(post.get("user_id") or "")
        if not user_id:
            return 0
        event = {
            "event": "user_added",
            "data": {"user_id": user_id},
            "broadcast": {"channel_id": self._public},
            "catchup": True,
        }
        await self._router(event)
        return 1
