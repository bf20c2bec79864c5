"""Personal reminders from two replicas on the real Synapse, one SIGKILLed while sending:
every subscriber gets the club's notice once, in an encrypted DM.

Two `intra-bot run` processes (Matrix only) share one store. The first talks to Synapse
through a loopback proxy that lets its first notice reach the room (Synapse has the event)
and keeps the answer from it; the second replica is up beside it when the first is
SIGKILLed there. The second takes the leased rows over when their lease ends and looks for
the held one in the DM room before sending (its transaction id is the row's key, too). The
copies are counted as Synapse's admin reads them: every room the bot made with each
subscriber, every message it sent there since the test began.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from bot.clock import utc_now
from bot.store import Store
from bot.subscriptions.records import SubscriptionRecords
from bot.subscriptions.schema import CLUB
from tests.e2e.tcp_proxy import TcpProxy
from tests.e2e_matrix.conftest import SynapseServer
from tests.e2e_matrix.test_matrix_only_run import free_port, healthz
from tests.e2e_matrix.test_matrix_replica_processes import (
    replica_environment,
    start,
    stop,
    wait,
)
from tests.integration.harness import club_at, write_content

pytestmark = pytest.mark.e2e

SUBSCRIBERS = 4
MESSAGES = ("m.room.message", "m.room.encrypted")


def quoted(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def new_person(synapse: SynapseServer) -> str:
    user_id = f"@subscriber-{secrets.token_hex(4)}:{synapse.server_name}"
    synapse.admin("PUT", f"/_synapse/admin/v2/users/{quoted(user_id)}", {"displayname": "Intra"})
    return user_id


def bot_rooms_with(synapse: SynapseServer, user_id: str) -> list[str]:
    """The rooms the bot is in where `user_id` is invited or joined."""
    joined = synapse.admin(
        "GET", f"/_synapse/admin/v1/users/{quoted(synapse.bot_user_id)}/joined_rooms"
    )
    assert isinstance(joined, dict)
    found = []
    for room in joined.get("joined_rooms", []):
        state = synapse.admin("GET", f"/_synapse/admin/v1/rooms/{quoted(room)}/state")
        assert isinstance(state, dict)
        if any(
            e["type"] == "m.room.member"
            and e["state_key"] == user_id
            and e["content"].get("membership") in ("invite", "join")
            for e in state.get("state", [])
        ):
            found.append(room)
    return found


def bot_messages_to(synapse: SynapseServer, user_id: str, since_ms: int) -> list[dict[str, Any]]:
    messages = []
    for room in bot_rooms_with(synapse, user_id):
        page = synapse.admin(
            "GET", f"/_synapse/admin/v1/rooms/{quoted(room)}/messages?dir=b&limit=100"
        )
        assert isinstance(page, dict)
        messages += [
            e
            for e in page.get("chunk", [])
            if e["sender"] == synapse.bot_user_id
            and e["type"] in MESSAGES
            and e["origin_server_ts"] >= since_ms
        ]
    return messages


def test_a_replica_killed_while_sending_the_club_notices_doubles_no_dm(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    since_ms = int(time.time() * 1000)
    people = [new_person(synapse) for _ in range(SUBSCRIBERS)]
    store_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    store = Store.open(store_url)
    records = SubscriptionRecords(store)
    for person in people:
        records.subscribe("matrix", person, CLUB, utc_now())
    store.close()
    # The club starts in 100 s and its notice goes 2 min before: due as soon as a bot sweeps.
    club = utc_now().replace(microsecond=0) + dt.timedelta(seconds=100)
    content = write_content(tmp_path / "content", [], exceptions=[club_at(club)])
    env = {
        **replica_environment(synapse, content, store_url),
        "INTRA_BOT_REMINDERS__ENABLED": "false",
        "INTRA_BOT_SUBSCRIPTIONS__CLUB_BEFORE": "2min",
        "INTRA_BOT_SUBSCRIPTIONS__CLUB_AT": "",
        "INTRA_BOT_SUBSCRIPTIONS__SWEEP_SECONDS": "1",
        "INTRA_BOT_OUTBOX__LEASE_SECONDS": "3",
    }
    address = urllib.parse.urlsplit(synapse.url)
    proxy = TcpProxy(address.hostname or "127.0.0.1", address.port or 80)
    # A message's send is the only PUT on a room's path the bot makes here.
    proxy.hold_response(b"PUT /_matrix/client/v3/rooms/")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ports = [free_port(), free_port()]
    first = start(
        {**env, "INTRA_BOT_MATRIX__HOMESERVER": proxy.url, "INTRA_BOT_HTTP__PORT": str(ports[0])},
        tmp_path / "a" / "bot.log",
    )
    processes = [first]
    try:
        wait("the first replica sending", proxy.held.is_set, processes)
        second = start({**env, "INTRA_BOT_HTTP__PORT": str(ports[1])}, tmp_path / "b" / "bot.log")
        processes.append(second)
        wait("the second replica ready", lambda: healthz(ports[1])[0] == 200, processes[1:])
        first.kill()  # SIGKILL: its DM is in the room, the answer never reached it
        first.wait(timeout=20)
        proxy.release()
        wait(
            "every notice",
            lambda: all(bot_messages_to(synapse, p, since_ms) for p in people),
            processes[1:],
        )
        # The dead one's row comes back to the survivor when its lease ends: that retry is
        # where a double would be made, so it must have happened before counting.
        log_b = tmp_path / "b" / "bot.log"
        wait(
            "the takeover of the held notice",
            lambda: "event=outbox_already_sent" in log_b.read_text(),
            processes[1:],
        )
        time.sleep(2)  # a few more sweeps
        assert stop(second) == 0
    finally:
        for process in processes:
            stop(process)
        proxy.close()
    counts = {p: len(bot_messages_to(synapse, p, since_ms)) for p in people}
    log = (tmp_path / "b" / "bot.log").read_text()
    assert counts == {p: 1 for p in people}, f"{counts}\n{log[-6000:]}"
    assert "event=outbox_already_sent" in log, log[-6000:]
