"""The websocket client through drops: resume and replay, fresh start, backoff."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

import bot.adapters.mattermost.websocket as websocket
from bot.adapters.mattermost.websocket import EventStream, backoff_delay
from tests.contract.fake_websocket import FakeMattermostWebsocket
from tests.contract.payloads import posted_event
from tests.waiting import eventually

TOKEN = "bottoken000000000000000000"


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeMattermostWebsocket]:
    monkeypatch.setattr(websocket, "MIN_BACKOFF", 0.05)
    monkeypatch.setattr(websocket, "MAX_BACKOFF", 0.2)
    fake = FakeMattermostWebsocket(TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.changed = asyncio.Condition()

    async def __call__(self, event: dict[str, Any]) -> None:
        async with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def posts(self) -> list[str]:
        return [e["data"]["post"] for e in self.events if e["event"] == "posted"]

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: len(self.posts()) >= count), timeout
            )


async def started(
    server: FakeMattermostWebsocket, token: str = TOKEN
) -> tuple[EventStream, Recorder, asyncio.Event, asyncio.Task[None]]:
    recorder = Recorder()
    stream = EventStream(server.url, token, recorder, heartbeat=5)
    stop = asyncio.Event()
    task = asyncio.create_task(stream.run(stop))
    return stream, recorder, stop, task


async def test_events_are_delivered_in_order(server: FakeMattermostWebsocket) -> None:
    stream, recorder, stop, task = await started(server)
    await asyncio.wait_for(server.connected.wait(), 5)
    for n in range(3):
        await server.push(posted_event(f"m{n}", post_id=f"p{n}"))
    await recorder.wait_for(3)
    assert stream.status().next_seq == 4
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_short_drop_resumes_and_replays_missed_events(
    server: FakeMattermostWebsocket,
) -> None:
    stream, recorder, stop, task = await started(server)
    await asyncio.wait_for(server.connected.wait(), 5)
    await server.push(posted_event("before", post_id="p1"))
    await recorder.wait_for(1)
    first_id = stream.status().connection_id
    await server.drop()
    await server.push(posted_event("during the drop", post_id="p2"))  # queued
    await recorder.wait_for(2)
    assert server.requests[-1] == {"connection_id": first_id, "sequence_number": "2"}
    assert stream.status().connection_id == first_id
    assert [e["event"] for e in recorder.events].count("hello") == 1
    assert len(recorder.posts()) == 2  # each event once
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_forgotten_connection_starts_fresh(server: FakeMattermostWebsocket) -> None:
    stream, recorder, stop, task = await started(server)
    await asyncio.wait_for(server.connected.wait(), 5)
    first_id = stream.status().connection_id
    await server.restart()
    await asyncio.wait_for(server.connected.wait(), 5)
    await server.push(posted_event("after restart", post_id="p9"))
    await recorder.wait_for(1)
    assert stream.status().connection_id not in ("", first_id)
    assert stream.status().reconnects >= 1
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_rejected_token_is_reported_and_retried(server: FakeMattermostWebsocket) -> None:
    stream, _recorder, stop, task = await started(server, token="wrong")
    await eventually(lambda: stream.status().reconnects >= 2, "two reconnections after a 401")
    assert stream.status().last_error == "token rejected (401)"
    assert not task.done()  # a bad token at run time never kills the process
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_a_failing_handler_does_not_stop_the_stream(server: FakeMattermostWebsocket) -> None:
    seen: list[str] = []

    async def handler(event: dict[str, Any]) -> None:
        if event["event"] == "posted":
            seen.append(event["data"]["post"])
            raise RuntimeError("bug in one handler")

    stream = EventStream(server.url, TOKEN, handler)
    stop = asyncio.Event()
    task = asyncio.create_task(stream.run(stop))
    await asyncio.wait_for(server.connected.wait(), 5)
    await server.push(posted_event("a", post_id="a"))
    await server.push(posted_event("b", post_id="b"))
    await eventually(lambda: len(seen) == 2, "both events reach the failing handler")
    assert stream.status().connected
    stop.set()
    await asyncio.wait_for(task, 5)


def test_backoff_grows_to_sixty_seconds_with_jitter() -> None:
    assert backoff_delay(0, rng=lambda: 0.0) == 1.0
    assert backoff_delay(3, rng=lambda: 0.0) == 4.0
    assert backoff_delay(3, rng=lambda: 1.0) == 8.0
    assert backoff_delay(10, rng=lambda: 1.0) == 60.0
    assert backoff_delay(100, rng=lambda: 0.5) == 45.0
    assert len({backoff_delay(5) for _ in range(20)}) > 1


async def test_every_fresh_connection_and_only_those_trigger_a_catch_up(
    server: FakeMattermostWebsocket,
) -> None:
    fresh: list[str] = []
    recorder = Recorder()
    stream = EventStream(
        server.url, TOKEN, recorder, on_fresh=lambda: fresh.append(stream.status().connection_id)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(stream.run(stop))
    await asyncio.wait_for(server.connected.wait(), 5)
    await server.push(posted_event("a", post_id="a"))
    await recorder.wait_for(1)
    assert len(fresh) == 1  # the first connection: the bot may have missed posts while down
    await server.drop()  # a short drop is resumed and replayed: nothing to fetch
    await server.push(posted_event("b", post_id="b"))
    await recorder.wait_for(2)
    assert len(fresh) == 1
    await server.restart()  # the server forgot us: what was posted meanwhile is lost
    await asyncio.wait_for(server.connected.wait(), 5)
    await server.push(posted_event("c", post_id="c"))
    await recorder.wait_for(3)
    assert len(fresh) == 2 and fresh[1] != fresh[0]
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_a_server_seen_coming_back_is_reconnected_without_waiting_the_backoff(
    server: FakeMattermostWebsocket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(websocket, "PROBE_EVERY", 0.05)
    recorder = Recorder()
    stream = EventStream(server.url, TOKEN, recorder, probe_url=server.ping_url)
    stop = asyncio.Event()
    task = asyncio.create_task(stream.run(stop))
    await asyncio.wait_for(server.connected.wait(), 5)
    # The server goes down: it refuses us and its ping fails; the backoff becomes huge.
    monkeypatch.setattr(websocket, "MIN_BACKOFF", 1000.0)
    monkeypatch.setattr(websocket, "MAX_BACKOFF", 1000.0)
    server.ping_ok = False
    server.token = "restarting"
    await server.restart()
    for _ in range(100):
        if stream.status().reconnects >= 1:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # a few failed probes
    server.token = TOKEN
    server.ping_ok = True
    await asyncio.wait_for(server.connected.wait(), 5)  # not after 1000 s
    await server.push(posted_event("back", post_id="back"))
    await recorder.wait_for(1)
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_an_unreachable_server_is_reported_by_kind_not_by_address(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(websocket, "MIN_BACKOFF", 0.05)
    monkeypatch.setattr(websocket, "MAX_BACKOFF", 0.2)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stream = EventStream(f"ws://127.0.0.1:{port}/api/v4/websocket", TOKEN, Recorder())
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="bot.adapters.mattermost.websocket"):
        task = asyncio.create_task(stream.run(stop))
        await eventually(lambda: bool(stream.status().last_error), "a failed connection")
        stop.set()
        await asyncio.wait_for(task, 5)
    # /healthz (unauthenticated) gets the kind of failure; the log gets the address.
    assert stream.status().last_error == "ClientConnectorError"
    assert f"127.0.0.1:{port}" in caplog.text


async def test_a_flood_runs_a_bounded_number_of_handlers_and_loses_none(
    server: FakeMattermostWebsocket,
) -> None:
    running, most, handled = 0, 0, []
    release = asyncio.Event()

    async def slow(event: dict[str, Any]) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1
        handled.append(event)

    stream = EventStream(server.url, TOKEN, slow, heartbeat=5, max_handlers=4)
    stop = asyncio.Event()
    task = asyncio.create_task(stream.run(stop))
    await asyncio.wait_for(server.connected.wait(), 5)
    for n in range(40):
        await server.push(posted_event(f"m{n}", post_id=f"p{n}"))
    await eventually(lambda: stream.held_back > 0, "the stream held events back")
    assert most == 4  # the others wait in the socket, not as tasks
    release.set()
    await eventually(
        lambda: len([e for e in handled if e["event"] == "posted"]) == 40, "all 40 handled"
    )
    assert most == 4
    stop.set()
    await asyncio.wait_for(task, 5)
