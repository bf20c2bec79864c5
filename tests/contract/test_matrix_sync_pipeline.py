"""The sync loop does not wait for a batch's replies before the next sync, and still moves
the stored token only past batches whose handlers have all finished."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from bot.adapters.matrix.sync import SyncLoop
from tests.waiting import eventually


class Tokens:
    def __init__(self, start: str | None) -> None:
        self.stored: list[str] = [start] if start else []

    async def get_next_batch(self) -> str | None:
        return self.stored[-1] if self.stored else None

    async def put_next_batch(self, token: str) -> None:
        self.stored.append(token)


class Router:
    def __init__(self) -> None:
        self.live = True
        self.just_joined: set[str] = set()


class Client:
    """Each sync returns batch n+1 at once; its handler waits until the test releases it."""

    mxid = "@bot:server"

    def __init__(self, router: Router, batches: int) -> None:
        self.router = router
        self.batches = batches
        self.synced = 0
        self.release = {n: asyncio.Event() for n in range(1, batches + 1)}
        self.handled: list[int] = []
        self.live_when_handled: list[bool] = []
        self.more = asyncio.Event()

    async def create_filter(self, _filter: object) -> str:
        return "filter"

    async def sync(self, **_kwargs: Any) -> dict[str, Any]:
        if self.synced >= self.batches:
            await self.more.wait()  # a long poll that never ends (until stopped)
        self.synced += 1
        return {"next_batch": f"t{self.synced}"}

    def handle_sync(self, data: dict[str, Any]) -> list[asyncio.Task[None]]:
        n = int(data["next_batch"][1:])
        return [asyncio.create_task(self._handle(n))]

    async def _handle(self, n: int) -> None:
        self.live_when_handled.append(self.router.live)
        if n in self.release:  # the last sync's, after the stop: nothing to wait for
            await self.release[n].wait()
        self.handled.append(n)


def start(loop: SyncLoop, stop: asyncio.Event) -> asyncio.Task[None]:
    coroutine: Coroutine[Any, Any, None] = loop.run(stop)
    return asyncio.create_task(coroutine)


async def test_the_next_syncs_come_while_a_batch_is_still_answered() -> None:
    router = Router()
    client = Client(router, batches=3)
    tokens = Tokens("t0")
    loop = SyncLoop(client, tokens, router)  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = start(loop, stop)
    # Batch 1's replies are still going out, and batches 2 and 3 are already synced.
    await eventually(lambda: client.synced == 3, "three syncs while batch 1 is in hand")
    assert tokens.stored == ["t0"]  # nothing handled yet: the token stays
    client.release[2].set()
    await eventually(lambda: client.handled == [2], "batch 2 handled")
    await asyncio.sleep(0.05)
    assert tokens.stored == ["t0"]  # batch 1 still in hand: a crash now replays both
    client.release[1].set()
    client.release[3].set()
    stop.set()
    client.more.set()
    await asyncio.wait_for(task, 5)
    assert tokens.stored[-1] == "t4"  # every batch handled, in order, on the way out
    assert tokens.stored == sorted(tokens.stored, key=lambda t: int(t[1:]))


async def test_a_first_sync_is_handled_before_the_bot_goes_live() -> None:
    router = Router()
    client = Client(router, batches=2)
    tokens = Tokens(None)  # no stored token: a first sync, history only
    loop = SyncLoop(client, tokens, router)  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = start(loop, stop)
    await eventually(lambda: client.synced == 1, "the first sync")
    await asyncio.sleep(0.05)
    assert client.synced == 1  # waits for the history's handlers
    assert router.live is False
    client.release[1].set()
    await eventually(lambda: client.synced == 2, "the second sync")
    assert client.live_when_handled[:2] == [False, True]
    client.release[2].set()
    stop.set()
    client.more.set()
    await asyncio.wait_for(task, 5)
