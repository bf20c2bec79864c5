"""A local websocket server speaking Mattermost's documented protocol (§C of the notes).

Enough of it to drive the client through drops: `hello` with a connection id, one
`seq` per event per connection, a queue of undelivered events kept after a drop,
replay on `?connection_id=…&sequence_number=…`, and a new `hello` when the
connection is unknown. The real server is exercised by tests/e2e.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, web


@dataclass
class Connection:
    id: str
    sent: list[dict[str, Any]] = field(default_factory=list)  # every event, by seq
    socket: web.WebSocketResponse | None = None


class FakeMattermostWebsocket:
    def __init__(self, token: str) -> None:
        self.token = token
        self.connections: dict[str, Connection] = {}
        self.current: Connection | None = None
        self.requests: list[dict[str, str]] = []
        self.connected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.ping_ok = True  # what GET /api/v4/system/ping says

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/v4/websocket", self._handle)
        app.router.add_get("/api/v4/system/ping", self._ping)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}/api/v4/websocket"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def ping_url(self) -> str:
        return self.url.replace("ws://", "http://").replace("/websocket", "/system/ping")

    async def _ping(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "OK"}, status=200 if self.ping_ok else 503)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(dict(request.query))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=401)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        wanted = request.query.get("connection_id", "")
        known = self.connections.get(wanted)
        next_seq = int(request.query.get("sequence_number", "0") or 0)
        if known is not None and next_seq <= len(known.sent):
            connection = known
            connection.socket = socket
            for event in connection.sent[next_seq:]:
                await socket.send_json(event)  # replay: original seqs, no hello
        else:
            connection = Connection(secrets.token_hex(13))
            self.connections[connection.id] = connection
            connection.socket = socket
            await self._send(
                connection,
                {"event": "hello", "data": {"connection_id": connection.id}, "broadcast": {}},
            )
        self.current = connection
        self.connected.set()
        async for _message in socket:
            pass
        connection.socket = None
        return socket

    async def _send(self, connection: Connection, event: dict[str, Any]) -> None:
        event = {**event, "seq": len(connection.sent)}
        connection.sent.append(event)
        if connection.socket is not None and not connection.socket.closed:
            await connection.socket.send_str(json.dumps(event))

    async def push(self, event: dict[str, Any]) -> None:
        """Broadcast an event to the bot: sent now, or queued while it is disconnected."""
        assert self.current is not None
        await self._send(self.current, event)

    async def drop(self) -> None:
        """Cut the connection; the server keeps its queue (a short network drop)."""
        self.connected.clear()
        if self.current is not None and self.current.socket is not None:
            await self.current.socket.close(code=WSCloseCode.GOING_AWAY)

    async def restart(self) -> None:
        """Forget every connection, as a restarted server does."""
        await self.drop()
        self.connections.clear()
