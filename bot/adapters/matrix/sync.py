"""The sync loop: resume from the stored token, handle, and only then move the token on.

mautrix's own loop stores the token before its handlers run, so a crash in
between would lose those events. Here the token is written once every handler
of a batch, and of every batch before it, has finished: a crash replays them, and
the store's claims make the replay answer nothing twice.

The next sync does not wait for a batch's handlers, though (up to
`MAX_BATCHES_IN_FLIGHT` batches are handled at once): replies go out at Tchap's pace,
one a second, and a question asked meanwhile must not wait behind them all. Only a
first sync (history, not questions) is handled before the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from mautrix.client import Client, SyncStream
from mautrix.client.state_store import SyncStore
from mautrix.errors import MatrixRequestError, MUnknownToken
from mautrix.types import (
    EventFilter,
    EventType,
    Filter,
    FilterID,
    PaginationDirection,
    PresenceState,
    RoomEventFilter,
    RoomFilter,
    RoomID,
    SyncToken,
    UserID,
)

from bot.adapters.matrix.events import MatrixEventRouter
from bot.adapters.matrix.session import MatrixStartupError
from bot.store import Store

log = logging.getLogger(__name__)

LONG_POLL_MS = 30_000
# Batches whose handlers may run while the next syncs come; past it the loop waits for the
# oldest (a bound on the work in hand, not a pace: the limiter sets that).
MAX_BATCHES_IN_FLIGHT = 8
# Events per room per sync; a bigger gap (a long outage in a busy room) is fetched back.
TIMELINE_LIMIT = 100
MAX_GAP_PAGES = 20  # 2,000 events: beyond that, an outage's history is skipped (and logged)
_EVERYTHING = [EventType.find("*")]


def sync_filter(me: UserID, timeline_limit: int = TIMELINE_LIMIT) -> Filter:
    """Only what the bot acts on, so a busy room costs few syncs at one request per second.

    No presence, typing or read receipts (each would end a long poll), and not the bot's
    own timeline events (its replies' echoes): the homeserver keeps waiting when a filtered
    result is empty. State, invites and to-device key traffic still come.
    """
    return Filter(
        presence=EventFilter(not_types=_EVERYTHING),
        room=RoomFilter(
            ephemeral=RoomEventFilter(not_types=_EVERYTHING),
            timeline=RoomEventFilter(not_senders=[me], limit=timeline_limit),
        ),
    )


@dataclass
class SyncStatus:
    connected: bool = False
    syncs: int = 0
    errors: int = 0
    gaps: int = 0
    resumed: bool = False  # this run started from a stored token, not an initial sync
    last_sync_at: float | None = None
    last_error: str = ""


def backoff(attempt: int) -> float:
    """1, 2, 4 … 60 s, with jitter so replicas do not retry in step."""
    return float(min(60.0, 2.0**attempt) * random.uniform(0.8, 1.2))


class SyncLoop:
    def __init__(
        self,
        client: Client,
        tokens: SyncStore,
        router: MatrixEventRouter,
        *,
        long_poll_ms: int = LONG_POLL_MS,
        timeline_limit: int = TIMELINE_LIMIT,
        store: Store | None = None,
    ) -> None:
        self._store = store  # remembers the sync filter's id
        self._timeline_limit = timeline_limit
        self._client = client
        self._tokens = tokens
        self._router = router
        self._long_poll_ms = long_poll_ms
        self.status = SyncStatus()
        self.first_sync = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        token: SyncToken | None = await self._tokens.get_next_batch() or None
        self._router.live = token is not None
        self.status.resumed = token is not None
        log.info("event=matrix_sync_start resumed=%s", token is not None)
        in_flight: deque[tuple[asyncio.Future[Any], SyncToken]] = deque()
        try:
            await self._sync_until(stop, token, in_flight)
        except BaseException:
            for handling, _ in in_flight:
                handling.cancel()
            raise
        await self._settle(in_flight, everything=True)

    async def _sync_until(
        self,
        stop: asyncio.Event,
        token: SyncToken | None,
        in_flight: deque[tuple[asyncio.Future[Any], SyncToken]],
    ) -> None:
        attempt = 0
        filter_id: FilterID | None = None
        while not stop.is_set():
            try:
                if filter_id is None:
                    filter_id = await self._filter()
                data = await self._client.sync(
                    since=token,
                    filter_id=filter_id,
                    # Long-poll only once connected: the first sync of a start (or after an
                    # error) returns at once, so /healthz is ready without waiting up to
                    # 30 s for something to happen, and missed events are handled first.
                    timeout=self._long_poll_ms if token and self.status.connected else 0,
                    set_presence=PresenceState.OFFLINE,
                )
            except MUnknownToken:
                raise MatrixStartupError(
                    "the homeserver no longer accepts the bot's access token (logged out?): "
                    "log the bot in again (see the README, « On Tchap »)"
                ) from None
            except Exception as error:  # network, 5xx, timeouts: the homeserver comes back
                if isinstance(error, MatrixRequestError) and 400 <= error.http_status < 500:
                    # Perhaps a remembered filter the homeserver no longer knows: a new one.
                    if self._store is not None:
                        await asyncio.to_thread(self._store.set_value, self._filter_key(), "")
                    filter_id = None
                self.status.connected = False
                self.status.errors += 1
                # /healthz shows the kind of failure; the text (with addresses) is logged.
                self.status.last_error = error.__class__.__name__
                delay = backoff(attempt)
                attempt += 1
                log.warning(
                    "event=matrix_sync_failed error=%r retry_in=%.1f",
                    f"{error.__class__.__name__}: {error}",
                    delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            attempt = 0
            if token is not None:
                if _limited(data):
                    # A room joined by a batch still in hand comes cut too: its join must
                    # be recorded (router.just_joined) before its history is looked at.
                    await self._settle(in_flight, everything=True)
                await self._fill_gaps(data, token)
            token = SyncToken(data["next_batch"])
            in_flight.append((asyncio.gather(*self._client.handle_sync(data)), token))
            # History first: nothing of a first sync is answered, so the bot goes live
            # only once its handlers have all seen it.
            await self._settle(in_flight, everything=not self._router.live)
            self._router.live = True
            self.status.connected = True
            self.status.syncs += 1
            self.status.last_sync_at = time.monotonic()
            self.first_sync.set()

    async def _filter(self) -> FilterID:
        """The sync filter's id: made once and remembered, not one more request per start
        (at Tchap's pace, each request of a start is a second the first answer waits)."""
        known = (
            await asyncio.to_thread(self._store.get_value, self._filter_key())
            if self._store
            else None
        )
        if known:
            return FilterID(known)
        made = await self._client.create_filter(
            sync_filter(self._client.mxid, self._timeline_limit)
        )
        if self._store is not None:
            await asyncio.to_thread(self._store.set_value, self._filter_key(), str(made))
        return made

    def _filter_key(self) -> str:
        wanted = json.dumps(sync_filter(self._client.mxid, self._timeline_limit).serialize())
        digest = hashlib.sha256(wanted.encode()).hexdigest()[:16]
        return f"matrix.sync_filter:{self._client.mxid}:{digest}"

    async def _settle(
        self, in_flight: deque[tuple[asyncio.Future[Any], SyncToken]], *, everything: bool = False
    ) -> None:
        """Store the token after the batches handled so far, in order; wait for the oldest
        while too many are in hand (or for all of them, `everything`)."""
        while in_flight and (
            everything or in_flight[0][0].done() or len(in_flight) > MAX_BATCHES_IN_FLIGHT
        ):
            handling, token = in_flight[0]
            if not handling.done() and len(in_flight) > MAX_BATCHES_IN_FLIGHT:
                log.warning("event=matrix_sync_busy batches_in_hand=%d", len(in_flight))
            await handling
            in_flight.popleft()
            await self._tokens.put_next_batch(token)

    async def _fill_gaps(self, data: dict[str, Any], since: SyncToken) -> None:
        """Fetch and handle what a resumed sync cut off (over `timeline_limit` in a room).

        After an outage a busy room's timeline comes `limited`: the events between the
        stored token and the window are fetched back (/messages from the window's start
        down to the stored token) and handled first, oldest first, so none is lost. A
        room the bot has just joined comes cut too: its history is not for the bot.
        """
        joined = (data.get("rooms") or {}).get("join") or {}
        for room_id, room in joined.items():
            if room_id in self._router.just_joined:
                self._router.just_joined.discard(room_id)
                continue
            timeline = room.get("timeline") or {}
            if not timeline.get("limited") or not timeline.get("prev_batch"):
                continue
            if _begins_here(room):
                continue
            missed = await self._missed(RoomID(room_id), timeline["prev_batch"], since)
            self.status.gaps += 1
            log.warning("event=matrix_timeline_gap room_id=%s fetched=%d", room_id, len(missed))
            stream = SyncStream.JOINED_ROOM | SyncStream.TIMELINE
            for event in missed:
                await asyncio.gather(*self._client.dispatch_event(event, stream))

    async def _missed(self, room_id: RoomID, start: SyncToken, since: SyncToken) -> list[Any]:
        events: list[Any] = []
        token: SyncToken | None = start
        for _ in range(MAX_GAP_PAGES):
            page = await self._client.get_messages(
                room_id, PaginationDirection.BACKWARD, from_token=token, to_token=since, limit=100
            )
            # PaginatedMessages is a functional NamedTuple mypy cannot see into
            page_events: list[Any] = list(getattr(page, "events", []))
            end: SyncToken | None = getattr(page, "end", None)
            events.extend(page_events)
            if not page_events or not end or end == token:
                break
            token = end
        else:
            log.error(
                "event=matrix_timeline_gap_too_long room_id=%s fetched=%d hint='older events skipped'",
                room_id,
                len(events),
            )
        return list(reversed(events))


def _begins_here(room: dict[str, Any]) -> bool:
    """Whether the room's whole life is in this batch: its `m.room.create` is here (a DM
    room the bot has just made: its own events are filtered out of the timeline, which
    comes `limited`). Nothing before it was missed: no /messages to fetch back, one
    request and one warning less per new DM."""
    state = (room.get("state") or {}).get("events") or []
    timeline = (room.get("timeline") or {}).get("events") or []
    return any(event.get("type") == "m.room.create" for event in [*state, *timeline])


def _limited(data: dict[str, Any]) -> bool:
    """Whether a room's timeline in this sync was cut (a gap, or a room just joined)."""
    joined = (data.get("rooms") or {}).get("join") or {}
    return any((room.get("timeline") or {}).get("limited") for room in joined.values())
