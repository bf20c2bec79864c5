"""The sync loop: resume from the stored token, handle, and only then move the token on.

mautrix's own loop stores the token before its handlers run, so a crash in
between would lose those events. Here the token is written once every handler
of a batch has finished: a crash replays the batch, and the store's claims make
the replay answer nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass

from mautrix.client import Client
from mautrix.client.state_store import SyncStore
from mautrix.errors import MUnknownToken
from mautrix.types import PresenceState, SyncToken

from bot.matrix.events import MatrixEventRouter
from bot.matrix.session import MatrixStartupError

log = logging.getLogger(__name__)

LONG_POLL_MS = 30_000


@dataclass
class SyncStatus:
    connected: bool = False
    syncs: int = 0
    errors: int = 0
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
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._router = router
        self._long_poll_ms = long_poll_ms
        self.status = SyncStatus()
        self.first_sync = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        token: SyncToken | None = await self._tokens.get_next_batch() or None
        self._router.live = token is not None
        log.info("event=matrix_sync_start resumed=%s", token is not None)
        attempt = 0
        while not stop.is_set():
            try:
                data = await self._client.sync(
                    since=token,
                    timeout=self._long_poll_ms if token else 0,
                    set_presence=PresenceState.OFFLINE,
                )
            except MUnknownToken:
                raise MatrixStartupError(
                    "the homeserver no longer accepts the bot's access token (logged out?): "
                    "log the bot in again (see the README, « On Tchap »)"
                ) from None
            except Exception as error:  # network, 5xx, timeouts: the homeserver comes back
                self.status.connected = False
                self.status.errors += 1
                self.status.last_error = f"{error.__class__.__name__}: {error}"
                delay = backoff(attempt)
                attempt += 1
                log.warning(
                    "event=matrix_sync_failed error=%r retry_in=%.1f", self.status.last_error, delay
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            attempt = 0
            await asyncio.gather(*self._client.handle_sync(data))
            token = SyncToken(data["next_batch"])
            await self._tokens.put_next_batch(token)
            self._router.live = True
            self.status.connected = True
            self.status.syncs += 1
            self.status.last_sync_at = time.monotonic()
            self.first_sync.set()
