"""The Matrix adapter run in the test's event loop, as `intra-bot run` would run it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bot.adapters.matrix.adapter import MatrixAdapter
from bot.answers.conversation import Conversation
from bot.config import MatrixSettings
from bot.store import Store

FIRST_SYNC_TIMEOUT_S = 60.0


class RunningBot:
    def __init__(
        self, settings: MatrixSettings, store: Store, store_url: str, conversation: Conversation
    ) -> None:
        self._args = (settings, store, store_url, conversation)
        self.adapter = MatrixAdapter(*self._args)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def restart(self, **adapter_options: Any) -> None:
        """Stop, then start a new adapter on the same stores, as a process restart would."""
        await self.stop()
        self.adapter = MatrixAdapter(*self._args, **adapter_options)
        self._stop = asyncio.Event()
        await self.start()

    async def start(self) -> None:
        await self.adapter.start()
        self._task = asyncio.create_task(self.adapter.run(self._stop), name="matrix-sync")
        sync = self.adapter.sync
        assert sync is not None
        waiter = asyncio.create_task(sync.first_sync.wait())
        done, _ = await asyncio.wait(
            {waiter, self._task}, timeout=FIRST_SYNC_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            waiter.cancel()
            if self._task in done:
                self._task.result()  # raises the sync loop's error
            raise AssertionError(f"the bot did not finish a first sync in {FIRST_SYNC_TIMEOUT_S} s")

    @property
    def user_id(self) -> str:
        return self.adapter.settings.user_id

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.adapter.close()
