"""Claimed means answered, on the real Synapse: an `intra-bot run` process SIGKILLed between
claiming a question and sending its reply (the reply's PUT held by a loopback proxy), then
another process on the same store: the question is answered, exactly once."""

from __future__ import annotations

import asyncio
import urllib.parse
from pathlib import Path

import pytest

from bot.adapters.matrix.history import KEY_FIELD
from tests.e2e.bot_process import process_environment
from tests.e2e.tcp_proxy import TcpProxy
from tests.e2e_matrix.apps import room_events
from tests.e2e_matrix.conftest import PICKLE_KEY, SynapseServer
from tests.e2e_matrix.nio_user import NioUser
from tests.e2e_matrix.test_matrix_only_run import free_port, healthz
from tests.e2e_matrix.test_matrix_replica_processes import start, stop, wait

pytestmark = pytest.mark.e2e

LEASE_S = 4


def replies_to(synapse: SynapseServer, question_id: str) -> list[dict[str, object]]:
    """The bot's replies to the question in the public room, keyed by it."""
    key = f"reply:{question_id}:{synapse.public_room_id}"
    return [
        event
        for event in room_events(synapse, synapse.public_room_id)
        if event["sender"] == synapse.bot_user_id and event["content"].get(KEY_FIELD) == key
    ]


@pytest.mark.parametrize("reply_reaches_synapse", [False, True], ids=["cut-before", "cut-after"])
async def test_a_question_claimed_by_a_killed_process_is_answered_once_by_the_next(
    synapse: SynapseServer, alice: NioUser, tmp_path: Path, reply_reaches_synapse: bool
) -> None:
    env = process_environment()
    env.update(
        {
            "INTRA_BOT_STORE__URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
            "INTRA_BOT_REMINDERS__ENABLED": "false",
            "INTRA_BOT_ANSWERS__CLAIM_LEASE_SECONDS": str(LEASE_S),
            "INTRA_BOT_MATRIX__HOMESERVER": synapse.url,
            "INTRA_BOT_MATRIX__PICKLE_KEY": PICKLE_KEY,
            "INTRA_BOT_MATRIX__USER_ID": synapse.bot_user_id,
            "INTRA_BOT_MATRIX__PASSWORD": synapse.bot_password,
            "INTRA_BOT_MATRIX__PUBLIC_ROOM": synapse.public_room_alias,
            "INTRA_BOT_MATRIX__PRIVATE_ROOM": synapse.private_room_id,
        }
    )
    address = urllib.parse.urlsplit(synapse.url)
    proxy = TcpProxy(address.hostname or "127.0.0.1", address.port or 80)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    port = free_port()
    first = start(
        {**env, "INTRA_BOT_MATRIX__HOMESERVER": proxy.url, "INTRA_BOT_HTTP__PORT": str(port)},
        tmp_path / "a" / "bot.log",
    )
    processes = [first]
    try:
        wait("the first process ready", lambda: healthz(port)[0] == 200, processes)
        pattern = b"PUT /_matrix/client/v3/rooms/"  # the reply: the only message it sends
        if reply_reaches_synapse:
            proxy.hold_response(pattern)
        else:
            proxy.hold_request(pattern)
        question = await alice.send_text(synapse.public_room_id, "!intra aide")
        wait("the first process replying", proxy.held.is_set, processes)
        first.kill()  # SIGKILL: the claim is left behind, never done
        first.wait(timeout=20)
        proxy.release()
        assert len(replies_to(synapse, question)) == (1 if reply_reaches_synapse else 0)
        second = start(
            {**env, "INTRA_BOT_HTTP__PORT": str(free_port())}, tmp_path / "b" / "bot.log"
        )
        processes.append(second)
        log = tmp_path / "b" / "bot.log"
        wait(
            "the takeover",
            lambda: "event=matrix_answer_taken_over" in log.read_text(),
            processes[1:],
        )
        await asyncio.sleep(LEASE_S * 2)  # a second look: nothing more
        replies = replies_to(synapse, question)
        assert len(replies) == 1, (replies, log.read_text()[-4000:])
        # The help, in Tchap's words (`!intra …`: `/intra` is a client command there).
        assert "!intra" in str(replies[0]["content"]["body"])  # type: ignore[index]
        if reply_reaches_synapse:
            assert "event=outbox_already_sent" in log.read_text()
        assert stop(second) == 0
    finally:
        for process in processes:
            stop(process)
        proxy.close()
