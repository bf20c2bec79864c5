"""The real `intra-bot run` drops a client that sends half a request, and keeps answering."""

from __future__ import annotations

import socket
import time

import pytest

from bot.web import HEADERS_TIMEOUT
from tests.e2e.bot_process import BotProcess

pytestmark = pytest.mark.e2e


def test_half_a_request_is_dropped_and_healthz_still_answers(bot: BotProcess) -> None:
    port = int(bot.env["INTRA_BOT_HTTP__PORT"])
    slow = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(20)]
    for client in slow:
        client.sendall(b"POST /mattermost/command HTTP/1.1\r\nHost: bot\r\nContent-Ty")
    started = time.monotonic()
    status, _ = bot.health()  # the others are served meanwhile
    assert status == 200
    for client in slow:
        client.settimeout(HEADERS_TIMEOUT + 15)
        assert client.recv(1024) == b""  # closed by the bot, nothing answered
        client.close()
    assert time.monotonic() - started < HEADERS_TIMEOUT + 15
