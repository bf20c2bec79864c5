"""The mautrix HTTP layer with the bot's manners: every request waits its turn.

Two buckets: the sync loop has its own, so it is never queued behind replies (a question
that arrives while a burst of replies goes out is seen at once and its answer takes its
turn among them); every other request shares the other bucket fairly (limiter.py).
"""

from __future__ import annotations

from typing import Any

from mautrix.api import HTTPAPI

from bot.adapters.matrix.limiter import RateLimiter, lane_of


class PacedHTTPAPI(HTTPAPI):
    """`HTTPAPI` whose requests go through a limiter: /sync through its own."""

    def __init__(
        self,
        *args: Any,
        limiter: RateLimiter,
        sync_limiter: RateLimiter | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.limiter = limiter
        self.sync_limiter = sync_limiter or limiter

    async def request(self, method: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        route = str(path)
        if route.endswith("/sync"):
            await self.sync_limiter.acquire()
        else:
            await self.limiter.acquire(lane_of(route))
        return await super().request(method, path, *args, **kwargs)
