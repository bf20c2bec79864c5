"""`intra-bot run` serves Matrix beside Mattermost when `[matrix]` is configured."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from bot.app import BotApp
from bot.config import Settings
from tests.e2e_matrix.conftest import SynapseServer, bot_matrix_section
from tests.e2e_matrix.nio_user import NioUser

pytestmark = pytest.mark.e2e


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_app_answers_on_matrix_and_reports_it_in_healthz(
    synapse: SynapseServer, alice: NioUser, tmp_path: Path
) -> None:
    # Mattermost unreachable on purpose: the Matrix part does not wait for it.
    settings = Settings.model_validate(
        {
            "mattermost": {"url": f"http://127.0.0.1:{closed_port()}", "token": "x"},
            "http": {"port": 0},
            "store": {"url": f"sqlite:///{tmp_path / 'store.sqlite3'}"},
            "matrix": bot_matrix_section(synapse),
        }
    )
    app = BotApp(settings)
    await app.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            _, health = await app.health()
            if health["parts"]["matrix"]["ok"]:
                break
            assert time.monotonic() < deadline, health["parts"]["matrix"]
            await asyncio.sleep(0.1)  # polling a condition, with a deadline
        mark = alice.mark()
        question = await alice.send_text(synapse.public_room_id, "!intra aide")
        reply = await alice.reply_to(question, after=mark)
        assert reply.sender == synapse.bot_user_id
        _, health = await app.health()
        assert health["parts"]["matrix"]["answered"] >= 1
        assert health["status"] == "unavailable"  # Mattermost is down, and says so
    finally:
        await app.stop()
