"""The mautrix HTTP layer with the bot's manners: every request waits its turn."""

from __future__ import annotations

from typing import Any

from mautrix.api import HTTPAPI

from bot.adapters.matrix.limiter import RateLimiter


class PacedHTTPAPI(HTTPAPI):
    """`HTTPAPI` whose requests (sync, sends, key uploads, all) go through one limiter."""

    def __init__(self, *args: Any, limiter: RateLimiter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limiter = limiter

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        await self.limiter.acquire()
        return await super().request(*args, **kwargs)
