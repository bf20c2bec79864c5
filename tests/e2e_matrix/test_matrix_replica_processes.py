"""Two `intra-bot run` processes (Matrix only) on one store: one post, whatever happens.

The real thing end to end: each process plans the club's reminders from the content, its
scheduler (running from start-up, whether Matrix has connected yet or not) fires the date
job at the same moment as the other's, and the store's claim lets one of them post in the
Synapse room. After both have stopped (in-flight posts finished), the room holds one copy.
And a replica SIGKILLed while its post is on the wire (Synapse has it, the answer never
came back) is taken over by the next one, which finds the post instead of posting again.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.matrix.platform import KEY_FIELD
from bot.clock import utc_now
from bot.club.reminders import PlannedReminder
from bot.schema import reminder_posts
from bot.store import Store
from tests.e2e.bot_process import process_environment
from tests.e2e.tcp_proxy import TcpProxy
from tests.e2e_matrix.apps import room_events
from tests.e2e_matrix.conftest import PICKLE_KEY, REPO_ROOT, SynapseServer
from tests.e2e_matrix.test_matrix_only_run import READY_TIMEOUT_S, free_port, healthz
from tests.integration.harness import club_at, planned_for, reminder, unique_prefix, write_content

pytestmark = pytest.mark.e2e

LEAD_S = 25  # the reminder is due this long after the test starts: both processes are up
# One process at a time in the kill test: the first is posting the reminder, whether its
# scheduler fires it (the usual case, it is up within a few seconds) or, on a machine slow
# enough, its start-up sweep finds it already due; either way its post is the one held.
KILLED_LEAD_S = 12


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=log.parent,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def wait(what: str, condition: object, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not condition():  # type: ignore[operator]
        for process in processes:
            assert process.poll() is None, f"a bot process exited ({process.returncode})"
        assert time.monotonic() < deadline, f"{what}: not within {READY_TIMEOUT_S} s"
        time.sleep(0.2)  # polling a condition, with a deadline


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()


def replica_environment(synapse: SynapseServer, content: Path, store_url: str) -> dict[str, str]:
    env = process_environment()
    env.update(
        {
            "INTRA_BOT_CONTENT__DIR": str(content),
            "INTRA_BOT_STORE__URL": store_url,
            "INTRA_BOT_MATRIX__HOMESERVER": synapse.url,
            "INTRA_BOT_MATRIX__PICKLE_KEY": PICKLE_KEY,
            "INTRA_BOT_MATRIX__USER_ID": synapse.bot_user_id,
            "INTRA_BOT_MATRIX__PASSWORD": synapse.bot_password,
            "INTRA_BOT_MATRIX__PUBLIC_ROOM": synapse.public_room_alias,
            "INTRA_BOT_MATRIX__PRIVATE_ROOM": synapse.private_room_id,
        }
    )
    return env


def due_reminder(
    synapse: SynapseServer, tmp_path: Path, lead_s: int = LEAD_S
) -> tuple[str, PlannedReminder, str, str, dict[str, str]]:
    """A reminder due `lead_s` from now: (prefix, item, its Matrix ledger key, store, env)."""
    prefix = unique_prefix()
    club = utc_now().replace(microsecond=0) + dt.timedelta(hours=1, seconds=lead_s)
    content = write_content(
        tmp_path / "content", [reminder(f"{prefix}-h1", "1h")], exceptions=[club_at(club)]
    )
    (item,) = planned_for(content, club, prefix)
    store_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    env = replica_environment(synapse, content, store_url)
    return prefix, item, f"matrix:{item.key}", store_url, env


def posted_copies(synapse: SynapseServer, item: PlannedReminder, key: str) -> list[Any]:
    """The bot's posts of that reminder in the public room."""
    since_ms = int((item.at - dt.timedelta(minutes=5)).timestamp() * 1000)
    return [
        e
        for e in room_events(synapse, synapse.public_room_id)
        if e["content"].get(KEY_FIELD) == f"reminder:{key}" and e["origin_server_ts"] >= since_ms
    ]


def test_two_processes_post_a_due_reminder_once_in_the_room(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    prefix, item, key, store_url, base = due_reminder(synapse, tmp_path)
    ports = [free_port(), free_port()]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start({**base, "INTRA_BOT_HTTP__PORT": str(ports[0])}, tmp_path / "a" / "bot.log")
    processes = [first]
    try:
        # The second starts once the first has logged in: it reuses the stored session.
        wait("the first replica ready", lambda: healthz(ports[0])[0] == 200, processes)
        second = start({**base, "INTRA_BOT_HTTP__PORT": str(ports[1])}, tmp_path / "b" / "bot.log")
        processes.append(second)
        store = Store.open(store_url)
        try:
            wait(
                "the reminder posted",
                lambda: store.reminder_states([key]).get(key) == "posted",
                processes,
            )
        finally:
            store.close()
        logs = [tmp_path / name / "bot.log" for name in ("a", "b")]
        # Both schedulers fired it: one posted, the other found it claimed.
        wait(
            "both replicas' attempts",
            lambda: all(
                f"event=reminder_posted key={key}" in text
                or f"event=reminder_held_elsewhere key={key}" in text
                for text in (log.read_text() for log in logs)
            ),
            processes,
        )
        codes = [stop(process) for process in processes]
    finally:
        for process in processes:
            stop(process)
    assert codes == [0, 0]
    copies = posted_copies(synapse, item, key)
    assert len(copies) == 1, copies
    assert f"Rappel {prefix}-h1" in copies[0]["content"]["body"]
    texts = [log.read_text() for log in logs]
    assert sum(f"event=reminder_posted key={key}" in text for text in texts) == 1, texts
    assert sum(f"event=reminder_held_elsewhere key={key}" in text for text in texts) >= 1


def test_a_replica_killed_mid_post_is_taken_over_without_a_second_post(
    synapse: SynapseServer, tmp_path: Path
) -> None:
    _prefix, item, key, store_url, env = due_reminder(synapse, tmp_path, KILLED_LEAD_S)
    env["INTRA_BOT_REMINDERS__LEASE_SECONDS"] = "2"
    address = urllib.parse.urlsplit(synapse.url)
    proxy = TcpProxy(address.hostname or "127.0.0.1", address.port or 80)
    # The first replica's post reaches Synapse; its answer never comes back.
    proxy.hold_response(b"PUT /_matrix/client/v3/rooms/")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    port = free_port()
    first = start(
        {**env, "INTRA_BOT_MATRIX__HOMESERVER": proxy.url, "INTRA_BOT_HTTP__PORT": str(port)},
        tmp_path / "a" / "bot.log",
    )
    processes = [first]
    store = Store.open(store_url)
    try:
        wait("the first replica ready", lambda: healthz(port)[0] == 200, processes)
        wait("the first replica posting", proxy.held.is_set, processes)
        first.kill()  # SIGKILL: no record of the post, the claim left behind
        first.wait(timeout=20)
        proxy.release()
        wait("the dead replica's lease to end", lambda: lease_over(store, key), processes[1:])
        second = start(
            {**env, "INTRA_BOT_HTTP__PORT": str(free_port())}, tmp_path / "b" / "bot.log"
        )
        processes.append(second)
        wait(
            "the takeover",
            lambda: store.reminder_states([key]).get(key) == "posted",
            processes[1:],
        )
        assert stop(second) == 0
    finally:
        store.close()
        for process in processes:
            stop(process)
        proxy.close()
    copies = posted_copies(synapse, item, key)
    assert len(copies) == 1, copies
    log = (tmp_path / "b" / "bot.log").read_text()
    assert f"event=reminder_found_already_posted key={key} post_id={copies[0]['event_id']}" in log


def lease_over(store: Store, key: str) -> bool:
    with store.engine.connect() as connection:
        until = connection.execute(
            select(reminder_posts.c.lease_until).where(reminder_posts.c.key == key)
        ).scalar_one_or_none()
    return until is not None and until < utc_now()
