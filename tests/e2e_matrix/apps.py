"""Whole bots (`BotApp`, Matrix only) in the test's loop, fresh users, and the room's history.

Used by the e2e tests of the welcome, the reminders and the private replies: those need
the core's services (greeter, club, outbox) around the adapter, as `intra-bot run` has.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.app import BotApp
from bot.config import Settings
from bot.content.loader import load_content
from tests.e2e_matrix.conftest import SynapseServer, bot_matrix_section
from tests.e2e_matrix.nio_user import NioUser, Seen
from tests.e2e_matrix.referents import content_with_tchap_ids

READY_TIMEOUT_S = 90.0


def matrix_only(
    synapse: SynapseServer, store_url: str, *, reminders: bool = False, **sections: Any
) -> Settings:
    """Settings of a Matrix-only bot (no Mattermost token) on `store_url`."""
    return Settings.model_validate(
        {
            "http": {"port": 0},
            "store": {"url": store_url},
            "reminders": {"enabled": reminders},
            "outbox": {"lease_seconds": 5},
            "matrix": bot_matrix_section(synapse),
            **sections,
        }
    )


async def until(what: str, condition: Callable[[], Any], timeout: float = READY_TIMEOUT_S) -> Any:
    """Poll `condition` (sync or async) until it is truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(0.1)  # polling a condition, with a deadline


async def started(settings: Settings) -> BotApp:
    """A running app whose Matrix part has synced once."""
    app = BotApp(settings)
    await app.start()

    async def synced() -> bool:
        _, health = await app.health()
        return bool(health["parts"]["matrix"]["ok"])

    try:
        await until("the Matrix part ready", synced)
    except BaseException:
        await app.stop()
        raise
    return app


async def new_user(
    synapse: SynapseServer, home: Path, *, display_name: str = "Nouvelle Intra"
) -> NioUser:
    """A person never seen before (so never welcomed), on their own E2EE client."""
    localpart = f"newcomer-{secrets.token_hex(4)}"
    user_id = f"@{localpart}:{synapse.server_name}"
    quoted = urllib.parse.quote(user_id, safe="")
    synapse.admin(
        "PUT",
        f"/_synapse/admin/v2/users/{quoted}",
        {"password": synapse.user_password, "displayname": display_name},
    )
    return await NioUser.login(synapse.url, user_id, synapse.user_password, home / localpart)


def room_events(synapse: SynapseServer, room_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The room's latest events, newest first, as the admin reads them (a member of it)."""
    room = urllib.parse.quote(room_id, safe="")
    filter_json = urllib.parse.quote(json.dumps({"types": ["m.room.message"]}))
    page = synapse.admin(
        "GET",
        f"/_matrix/client/v3/rooms/{room}/messages?dir=b&limit={limit}&filter={filter_json}",
    )
    assert isinstance(page, dict)
    return list(page.get("chunk", []))


async def direct_message(
    user: NioUser, bot_id: str, what: str, predicate: Callable[[Seen], bool], *, after: int
) -> Seen:
    """The bot's message matching `predicate`, in a DM: joined if the bot invites now, or
    the DM room it made earlier in the session."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        for room_id, room in list(user.client.invited_rooms.items()):
            if room.inviter == bot_id:
                await user.client.join(room_id)
        found = [e for e in user.seen[after:] if e.sender == bot_id and predicate(e)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"{user.user_id}: no {what} within {READY_TIMEOUT_S} s"
        await user.sync(timeout_ms=1000)


def referents_content(synapse: SynapseServer, home: Path) -> Path:
    """The shipped content, with the test referents' Matrix ids as their Tchap accounts."""
    target = content_with_tchap_ids(synapse.server_name, home / "content")
    for person in load_content(target).referents.referents:
        assert person.comptes.tchap in synapse.user_ids.values(), (
            f"{person.comptes.tchap} is not a user of the test Synapse: update REFERENT_USERS "
            "in scripts/synapse/bootstrap.py"
        )
    return target
