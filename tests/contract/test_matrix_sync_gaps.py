"""A cut timeline is fetched back, except in a room whose whole life is in the batch: a DM
room the bot has just made comes `limited` (its own events are filtered out), with its
`m.room.create` in the state; before it there is nothing to miss (issue 23: one useless
/messages and one « timeline gap » warning per personal notice, 500 of them a club)."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.adapters.matrix.sync import SyncLoop
from tests.waiting import eventually

BOT = "@bot:server"


class Tokens:
    async def get_next_batch(self) -> str | None:
        return "t0"  # resumed: gaps are looked at

    async def put_next_batch(self, token: str) -> None:
        pass


class Router:
    def __init__(self) -> None:
        self.live = True
        self.just_joined: set[str] = set()


def member(user: str, membership: str) -> dict[str, Any]:
    return {
        "type": "m.room.member",
        "state_key": user,
        "sender": BOT,
        "content": {"membership": membership},
    }


NEW_DM = {  # as Synapse gives the DM room the bot has just created
    "state": {
        "events": [
            {"type": "m.room.create", "state_key": "", "sender": BOT, "content": {}},
            member(BOT, "join"),
            member("@ana:server", "invite"),
        ]
    },
    "timeline": {"events": [], "limited": True, "prev_batch": "p-dm"},
}
OUTAGE = {  # a busy room after an outage: its state changes only, no create
    "state": {"events": [member("@ben:server", "join")]},
    "timeline": {"events": [], "limited": True, "prev_batch": "p-busy"},
}


class Client:
    mxid = BOT

    def __init__(self, rooms: dict[str, Any]) -> None:
        self.rooms = rooms
        self.synced = 0
        self.fetched: list[str] = []
        self.more = asyncio.Event()

    async def create_filter(self, _filter: object) -> str:
        return "filter"

    async def sync(self, **_kwargs: Any) -> dict[str, Any]:
        self.synced += 1
        if self.synced > 1:
            await self.more.wait()  # a long poll that never ends (until stopped)
            return {"next_batch": f"t{self.synced}"}
        return {"next_batch": f"t{self.synced}", "rooms": {"join": self.rooms}}

    def handle_sync(self, _data: dict[str, Any]) -> list[asyncio.Task[None]]:
        return []

    async def get_messages(self, room_id: str, *_args: Any, **_kwargs: Any) -> object:
        self.fetched.append(room_id)
        return object()  # no events: nothing found


async def gaps_of(rooms: dict[str, Any]) -> tuple[list[str], int]:
    client = Client(rooms)
    loop = SyncLoop(client, Tokens(), Router())  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    await eventually(lambda: loop.status.syncs == 1, "the first sync handled")
    stop.set()
    client.more.set()
    await asyncio.wait_for(task, 5)
    return client.fetched, loop.status.gaps


async def test_a_dm_room_just_made_is_not_a_gap() -> None:
    assert await gaps_of({"!dm:server": NEW_DM}) == ([], 0)


async def test_a_room_cut_after_an_outage_is_fetched_back() -> None:
    fetched, gaps = await gaps_of({"!dm:server": NEW_DM, "!busy:server": OUTAGE})
    assert (fetched, gaps) == (["!busy:server"], 1)
