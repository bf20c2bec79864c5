"""A restarted bot's first sync returns at once: ready (and catching up) without a long poll."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.adapters.matrix.http import PacedHTTPAPI
from tests.e2e_matrix.bot_runner import RunningBot

pytestmark = pytest.mark.e2e


async def test_the_first_sync_after_a_restart_does_not_long_poll(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeouts: list[int] = []
    request = PacedHTTPAPI.request

    async def recording(self: PacedHTTPAPI, *args: Any, **kwargs: Any) -> Any:
        if str(args[1] if len(args) > 1 else kwargs.get("path")).endswith("/sync"):
            timeouts.append(int((kwargs.get("query_params") or {})["timeout"]))
        return await request(self, *args, **kwargs)

    monkeypatch.setattr(PacedHTTPAPI, "request", recording)
    await bot.restart()  # resumes from the stored token; returns after the first sync
    deadline = time.monotonic() + 30
    while len(timeouts) < 2:  # the sync after it: the loop goes on to long-poll
        assert time.monotonic() < deadline, timeouts
        await asyncio.sleep(0.05)  # polling a condition, with a deadline
    assert bot.adapter.sync is not None and bot.adapter.sync.status.resumed
    assert timeouts[0] == 0, timeouts
    assert timeouts[1] > 0, timeouts
