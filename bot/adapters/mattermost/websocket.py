"""The Mattermost websocket: authenticate, follow `seq`, resume after a drop, back off.

Mattermost keeps a dropped connection for a few minutes with a queue of the events
it could not deliver. Reconnecting with `connection_id` and `sequence_number` (the
next seq we expect) replays them, with their original seqs and no new `hello`.
When the server has forgotten the connection (restart, reaped, queue overflow) it
answers with a `hello` carrying a new `connection_id`: we simply start fresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

log = logging.getLogger(__name__)

Event = dict[str, Any]
EventHandler = Callable[[Event], Awaitable[None]]

MIN_BACKOFF = 1.0
MAX_BACKOFF = 60.0
# A connection that stayed up this long was healthy: the next drop backs off from 1 s again.
HEALTHY_AFTER = 30.0
PROBE_EVERY = 1.0
# Events handled at once. Past it the stream stops reading until one finishes: the socket
# (then Mattermost's queue for the connection, replayed on a resume) holds the rest, so a
# flood costs a bounded number of tasks and store writes in flight and loses nothing.
MAX_HANDLERS = 16


class TokenRejected(Exception):
    """The server refused the bot token on the websocket upgrade."""


@dataclass
class StreamStatus:
    connected: bool
    connection_id: str
    next_seq: int
    last_event_at: float | None
    reconnects: int
    last_error: str


def backoff_delay(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential from 1 s to 60 s, with jitter over the upper half of the window."""
    window = min(MAX_BACKOFF, MIN_BACKOFF * 2.0 ** min(attempt, 16))
    return max(MIN_BACKOFF, window / 2 + rng() * window / 2)


class EventStream:
    def __init__(
        self,
        url: str,
        token: str,
        handler: EventHandler,
        *,
        heartbeat: float = 30.0,
        on_fresh: Callable[[], None] | None = None,
        probe_url: str = "",
        max_handlers: int = MAX_HANDLERS,
    ) -> None:
        self._url = url
        self._token = token
        self._handler = handler
        self._heartbeat = heartbeat
        # Called on every hello with a new connection_id, before its events are handled:
        # the server replays nothing then, so what was posted meanwhile must be fetched.
        self._on_fresh = on_fresh
        # A cheap "is the server back?" URL polled while backing off (see _wait_to_retry).
        self._probe_url = probe_url
        self._seen_down = False  # the server refused connections or failed a probe since
        self._connection_id = ""
        self._next_seq = 0
        self._connected = False
        self._last_event_at: float | None = None
        self._reconnects = 0
        self._last_error = ""
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max_handlers)
        self.held_back = 0  # times an event waited for a free handler (/healthz)
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    def status(self) -> StreamStatus:
        return StreamStatus(
            connected=self._connected,
            connection_id=self._connection_id,
            next_seq=self._next_seq,
            last_event_at=self._last_event_at,
            reconnects=self._reconnects,
            last_error=self._last_error,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected until `stop` is set; never raise for a network problem."""
        attempt = 0
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    await self._session(session, stop)
                except TokenRejected:
                    self._last_error = "token rejected (401)"
                    log.error("event=websocket_token_rejected action=retrying")
                except (TimeoutError, aiohttp.ClientError, OSError) as error:
                    # Refused or cut: the server may be restarting. An upgrade it answered
                    # (and refused) says it is up: that one keeps the whole backoff.
                    self._seen_down = not isinstance(error, aiohttp.WSServerHandshakeError)
                    # /healthz shows the kind of failure; the text (with addresses) is logged.
                    self._last_error = error.__class__.__name__
                    log.warning("event=websocket_error error=%r", f"{self._last_error}: {error}")
                except Exception:  # the stream must outlive any bug in one event
                    log.exception("event=websocket_unexpected_error")
                finally:
                    self._connected = False
                    self._ws = None
                if stop.is_set():
                    break
                if time.monotonic() - started > HEALTHY_AFTER:
                    attempt = 0
                delay = backoff_delay(attempt)
                attempt += 1
                self._reconnects += 1
                log.info("event=websocket_reconnect_in seconds=%.1f attempt=%d", delay, attempt)
                await self._wait_to_retry(session, stop, delay)
        await self.drain()

    async def _wait_to_retry(
        self, session: aiohttp.ClientSession, stop: asyncio.Event, delay: float
    ) -> None:
        """Back off for `delay`, but come back as soon as the server is seen coming back.

        During a server restart the backoff grows to tens of seconds, and everything posted
        until we reconnect is answered late. Polling the cheap ping endpoint every second
        ends the wait once the server, seen down (refused connections, failed probes), answers
        again; a server that is up but refuses us (401, bad upgrade) gets the full backoff."""
        if not self._probe_url:
            await sleep_unless(stop, delay)
            return
        deadline = time.monotonic() + delay
        while not stop.is_set() and time.monotonic() < deadline:
            await sleep_unless(stop, min(PROBE_EVERY, max(0.0, deadline - time.monotonic())))
            if stop.is_set() or time.monotonic() >= deadline:
                return
            up = await self._server_up(session)
            if up and self._seen_down:
                log.info("event=websocket_server_back action=reconnecting_now")
                return
            self._seen_down = self._seen_down or not up

    async def _server_up(self, session: aiohttp.ClientSession) -> bool:
        # One plain request, no retries: the answer must come within the second.
        try:
            async with session.get(
                self._probe_url, timeout=aiohttp.ClientTimeout(total=PROBE_EVERY)
            ) as response:
                return response.status == 200
        except (TimeoutError, aiohttp.ClientError, OSError):
            return False

    async def drain(self) -> None:
        """Wait for the event handlers still running (graceful stop)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def _session(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        url = self._url
        resuming = bool(self._connection_id)
        if resuming:
            query = {"connection_id": self._connection_id, "sequence_number": self._next_seq}
            url = f"{url}?{urlencode(query)}"
        try:
            ws = await session.ws_connect(
                url,
                headers={"Authorization": f"Bearer {self._token}"},
                heartbeat=self._heartbeat,
                autoping=True,
            )
        except aiohttp.WSServerHandshakeError as error:
            if error.status == 401:
                raise TokenRejected() from None
            raise
        self._ws = ws
        self._connected = True
        self._seen_down = False
        self._last_error = ""
        log.info("event=websocket_connected resume=%s next_seq=%d", resuming, self._next_seq)
        async with ws:
            closer = asyncio.create_task(_close_when(stop, ws))
            try:
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        await self._receive(message.data)
                    elif message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                        break
            finally:
                closer.cancel()
        log.info("event=websocket_closed code=%s", ws.close_code)

    async def _receive(self, raw: str) -> None:
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
            log.warning("event=websocket_bad_json length=%d", len(raw))
            return
        if not isinstance(event, dict) or "event" not in event:
            return  # a reply to one of our requests (seq_reply)
        self._last_event_at = time.monotonic()
        seq = event.get("seq")
        if event["event"] == "hello":
            connection_id = str(event.get("data", {}).get("connection_id", ""))
            if connection_id != self._connection_id:
                log.info(
                    "event=websocket_fresh_connection previous=%s new=%s",
                    self._connection_id or "-",
                    connection_id,
                )
                self._connection_id = connection_id
                if self._on_fresh is not None:
                    self._on_fresh()
        if isinstance(seq, int):
            if seq > self._next_seq and event["event"] != "hello":
                log.warning("event=websocket_gap expected=%d got=%d", self._next_seq, seq)
            if seq < self._next_seq and event["event"] != "hello":
                return  # already handled before the drop
            self._next_seq = seq + 1
        if self._slots.locked():
            self.held_back += 1
            if self.held_back % 100 == 1:
                log.warning(
                    "event=websocket_busy handlers=%d held_back=%d action=reading_paused",
                    len(self._tasks),
                    self.held_back,
                )
        await self._slots.acquire()
        task = asyncio.create_task(self._dispatch(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, event: Event) -> None:
        try:
            await self._handler(event)
        except Exception:
            log.exception("event=handler_failed ws_event=%s", event.get("event"))
        finally:
            self._slots.release()


async def _close_when(stop: asyncio.Event, ws: aiohttp.ClientWebSocketResponse) -> None:
    await stop.wait()
    await ws.close()


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
