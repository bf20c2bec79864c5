"""A user's websocket, in a background thread: what Mattermost pushes to that user's
browser (ephemeral messages, dialogs to open), for the tests to read."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import aiohttp


class UserSocket:
    def __init__(self, ws_url: str, token: str) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run(ws_url, token)), daemon=True
        )
        self._thread.start()
        if not self._ready.wait(10):
            raise AssertionError("the user's websocket did not connect")

    async def _run(self, url: str, token: str) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(
                url, headers={"Authorization": f"Bearer {token}"}, heartbeat=20
            ) as ws,
        ):
            while not self._stop.is_set():
                try:
                    message = await ws.receive(timeout=0.2)
                except TimeoutError:
                    continue
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                event = json.loads(message.data)
                if event.get("event") == "hello":
                    self._ready.set()
                with self._lock:
                    self.events.append(event)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def wait_for(
        self, kind: str, predicate: Any = lambda data: True, timeout: float = 15
    ) -> dict[str, Any]:
        """The first `kind` event whose data (JSON strings decoded) matches."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                events = list(self.events)
            for event in events:
                if event.get("event") != kind:
                    continue
                data = {k: _decode(v) for k, v in (event.get("data") or {}).items()}
                if predicate(data):
                    return data
            time.sleep(0.05)
        raise AssertionError(f"no {kind} event within {timeout} s")

    def ephemeral_texts(self) -> list[str]:
        with self._lock:
            events = list(self.events)
        return [
            _decode(e["data"]["post"]).get("message", "")
            for e in events
            if e.get("event") == "ephemeral_message"
        ]


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
