"""A local HTTP server that answers Mattermost REST routes from a script, and records calls.

Like `Scripted` in test_api_retries.py, but routed: each test says what each route answers
(status and JSON body, Mattermost's shapes from tests/contract/payloads and §A/§C of the
notes), and reads back which requests the adapter made, in order.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.adapters.mattermost.api import MattermostApi

Answer = tuple[int, Any]


@dataclass(frozen=True)
class Raw:
    """A body sent as it is, as JSON: what `json.dumps` cannot write (nested 100,000 deep)."""

    text: str


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class FakeRest:
    routes: list[tuple[str, re.Pattern[str], Callable[[Call], Answer]]] = field(
        default_factory=list
    )
    calls: list[Call] = field(default_factory=list)

    def on(self, method: str, path: str, answer: Answer | Callable[[Call], Answer]) -> None:
        """Answer `method path` (a regex on the path after /api/v4) with `answer`."""
        reply = answer if callable(answer) else (lambda _call, fixed=answer: fixed)
        self.routes.insert(0, (method, re.compile(path), reply))  # the latest wins

    def paths(self, method: str = "") -> list[str]:
        return [c.path for c in self.calls if not method or c.method == method]

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        call = Call(
            request.method,
            request.path.removeprefix("/api/v4"),
            dict(request.query),
            json.loads(raw) if raw else None,
        )
        self.calls.append(call)
        for method, pattern, reply in self.routes:
            if method == call.method and pattern.fullmatch(call.path):
                status, body = reply(call)
                if isinstance(body, Raw):
                    return web.Response(
                        text=body.text, status=status, content_type="application/json"
                    )
                return web.json_response(body, status=status)
        return web.json_response(error(404, "api.context.404.app_error"), status=404)


def error(status: int, error_id: str, message: str = "refused") -> dict[str, Any]:
    """Mattermost's error body."""
    return {"id": error_id, "message": message, "status_code": status, "request_id": "r"}


@asynccontextmanager
async def serving() -> AsyncIterator[tuple[FakeRest, MattermostApi]]:
    fake = FakeRest()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app)
    await server.start_server()
    # No retries: a scripted error is the answer, not a hiccup to ride out.
    api = MattermostApi(str(server.make_url("")).rstrip("/"), "token", timeout=5, max_retries=0)
    try:
        yield fake, api
    finally:
        await api.close()
        await server.close()
