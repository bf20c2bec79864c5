"""The listener drops clients that send their request slowly, and still serves the others.

Raw sockets, as a slow client (or a slow-loris attack) behaves: half the headers, or whole
headers and half the body, then nothing. Without the deadlines aiohttp kept them for ever.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from bot.adapters.mattermost.http import COMMAND_PATH, CommandEndpoint, build_app
from bot.answers.conversation import Conversation
from bot.content.loader import ContentSource
from bot.web import listen
from tests.contract.payloads import slash_command_form

TOKEN = "currenttoken00000000000000"
DEADLINE = 0.5


async def healthy() -> tuple[bool, dict[str, object]]:
    return True, {"status": "ok"}


@pytest.fixture
async def port() -> AsyncIterator[int]:
    app = build_app(CommandEndpoint(Conversation(ContentSource()), lambda: [TOKEN]), healthy)
    runner, bound = await listen(
        app, "127.0.0.1", 0, headers_timeout=DEADLINE, body_timeout=DEADLINE
    )
    try:
        yield bound
    finally:
        await runner.cleanup()


async def _closed_after(reader: asyncio.StreamReader, limit: float) -> tuple[float, bytes]:
    """Seconds until the server closed the connection, and what it said before."""
    started = time.monotonic()
    said = await asyncio.wait_for(reader.read(), timeout=limit)
    return time.monotonic() - started, said


async def test_half_sent_headers_are_dropped(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"POST {COMMAND_PATH} HTTP/1.1\r\nHost: bot\r\nContent-Ty".encode())
    await writer.drain()
    seconds, said = await _closed_after(reader, limit=DEADLINE + 5)
    assert said == b""  # closed, nothing answered
    assert seconds < DEADLINE + 3
    writer.close()


async def test_headers_dribbled_byte_by_byte_do_not_keep_the_connection(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET /healthz HTTP/1.1\r\nHost: bot\r\nX-Slow: {'a' * 200}\r\n\r\n".encode()
    started = time.monotonic()
    closed = False
    for byte in request:
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except ConnectionError:
            closed = True
            break
        if reader.at_eof() or time.monotonic() - started > DEADLINE + 3:
            break
        await asyncio.sleep(0.05)
    if not closed:
        _, said = await _closed_after(reader, limit=DEADLINE + 5)
        assert b"200 OK" not in said
    assert time.monotonic() - started < DEADLINE + 5
    writer.close()


async def test_half_sent_body_is_dropped(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = urlencode(slash_command_form(TOKEN, "referents")).encode()
    head = (
        f"POST {COMMAND_PATH} HTTP/1.1\r\nHost: bot\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body[: len(body) // 2])
    await writer.drain()
    seconds, said = await _closed_after(reader, limit=DEADLINE + 5)
    assert said.startswith(b"HTTP/1.1 408")
    assert seconds < DEADLINE + 3
    writer.close()


async def test_a_body_in_two_parts_within_the_deadline_is_answered(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = urlencode(slash_command_form(TOKEN, "referents")).encode()
    head = (
        f"POST {COMMAND_PATH} HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body[:10])
    await writer.drain()
    await asyncio.sleep(DEADLINE / 5)
    writer.write(body[10:])
    await writer.drain()
    _, said = await _closed_after(reader, limit=10)
    assert said.startswith(b"HTTP/1.1 200")
    assert b"marine.purson@beta.gouv.fr" in said
    writer.close()


async def test_many_slow_clients_leave_healthz_answering(port: int) -> None:
    slow = [await asyncio.open_connection("127.0.0.1", port) for _ in range(50)]
    for _, writer in slow:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n")
    await asyncio.sleep(DEADLINE * 3)
    # Every slow one is closed by now…
    closed = await asyncio.gather(*(_closed_after(r, limit=3) for r, _ in slow))
    assert all(said == b"" for _, said in closed)
    for _, writer in slow:
        writer.close()
    # … and a normal request is served.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n")
    _, said = await _closed_after(reader, limit=10)
    assert said.startswith(b"HTTP/1.1 200")
    writer.close()
