"""`intra-bot run` with only `[matrix]` configured: a real process that answers on Tchap.

No Mattermost token at all: the process starts, answers in the public room, reports
ready on /healthz (200) and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.bot_process import process_environment
from tests.e2e_matrix.conftest import PICKLE_KEY, REPO_ROOT, SynapseServer
from tests.e2e_matrix.nio_user import NioUser

pytestmark = pytest.mark.e2e

READY_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthz(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError:
        return 0, {}


async def test_a_matrix_only_process_answers_and_is_healthy(
    synapse: SynapseServer, alice: NioUser, tmp_path: Path
) -> None:
    port = free_port()
    env = process_environment()
    env.update(
        {
            "INTRA_BOT_HTTP__PORT": str(port),
            "INTRA_BOT_STORE__URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
            "INTRA_BOT_REMINDERS__ENABLED": "false",
            "INTRA_BOT_MATRIX__HOMESERVER": synapse.url,
            "INTRA_BOT_MATRIX__PICKLE_KEY": PICKLE_KEY,
            "INTRA_BOT_MATRIX__USER_ID": synapse.bot_user_id,
            "INTRA_BOT_MATRIX__PASSWORD": synapse.bot_password,
            "INTRA_BOT_MATRIX__PUBLIC_ROOM": synapse.public_room_alias,
            "INTRA_BOT_MATRIX__PRIVATE_ROOM": synapse.private_room_id,
        }
    )
    log = (tmp_path / "bot.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,  # no config.toml here: the environment is the whole configuration
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        status, health = healthz(port)
        while status != 200:
            assert process.poll() is None, (tmp_path / "bot.log").read_text()
            assert time.monotonic() < deadline, (status, health)
            time.sleep(0.2)  # polling a condition, with a deadline
            status, health = healthz(port)
        assert health["parts"]["matrix"]["ok"] is True
        assert "mattermost" not in health["parts"]

        mark = alice.mark()
        question = await alice.send_text(synapse.public_room_id, "!intra aide")
        reply = await alice.reply_to(question, after=mark)
        assert reply.sender == synapse.bot_user_id
        # The help in Tchap's words: its command prefix, not Mattermost's slash command.
        assert "`!intra certification`" in reply.content["body"]
        assert "/intra" not in reply.content["body"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
            log.close()
    assert code == 0, (tmp_path / "bot.log").read_text()
