"""The REST facade through rate limits and outages (headers of §D: Retry-After on 429)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.adapters.mattermost.api import MattermostApi, MattermostApiError, MattermostUnavailable

ME = {"id": "botid", "username": "intra-bot", "is_bot": True}


class Scripted:
    """Answers each request with the next scripted (status, headers, body)."""

    def __init__(self, *answers: tuple[int, dict[str, str], Any]) -> None:
        self.answers = list(answers)
        self.seen: list[float] = []
        self.content_type = "application/json"  # Mattermost's exact one, no charset

    async def handle(self, _request: web.Request) -> web.Response:
        self.seen.append(time.monotonic())
        status, headers, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return web.Response(
            body=json.dumps(body).encode(),
            status=status,
            headers={**headers, "Content-Type": "application/json"},
        )


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, Scripted]]:
    scripted = Scripted((200, {}, ME))
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", scripted.handle)
    test_server = TestServer(app)
    await test_server.start_server()
    yield test_server, scripted
    await test_server.close()


def api_for(test_server: TestServer) -> MattermostApi:
    return MattermostApi(str(test_server.make_url("")).rstrip("/"), "token", timeout=5)


async def test_429_is_retried_after_the_delay_the_server_asks(server) -> None:  # type: ignore[no-untyped-def]
    test_server, scripted = server
    scripted.answers = [
        (429, {"Retry-After": "1"}, {"message": "limit exceeded"}),
        (200, {}, ME),
    ]
    api = api_for(test_server)
    me = await api.me()
    await api.close()
    assert me.username == "intra-bot"
    assert len(scripted.seen) == 2 and scripted.seen[1] - scripted.seen[0] >= 0.95


async def test_503_on_a_read_is_retried(server) -> None:  # type: ignore[no-untyped-def]
    test_server, scripted = server
    error = {"id": "x", "message": "unavailable", "request_id": "r", "status_code": 503}
    scripted.answers = [(503, {}, error), (502, {}, error), (200, {}, ME)]
    api = api_for(test_server)
    assert (await api.me()).id == "botid"
    await api.close()
    assert len(scripted.seen) == 3


async def test_errors_become_one_exception_with_status_and_id(server) -> None:  # type: ignore[no-untyped-def]
    test_server, scripted = server
    scripted.answers = [
        (
            403,
            {},
            {
                "id": "api.context.permissions.app_error",
                "message": "nope",
                "request_id": "r",
                "status_code": 403,
            },
        )
    ]
    api = api_for(test_server)
    with pytest.raises(MattermostApiError) as caught:
        await api.create_post("c", "hello")
    await api.close()
    assert (
        caught.value.status == 403 and caught.value.error_id == "api.context.permissions.app_error"
    )
    assert len(scripted.seen) == 1  # a POST refused is not retried


async def test_unreachable_server_is_unavailable() -> None:
    api = MattermostApi("http://127.0.0.1:9", "token", timeout=2, max_retries=0)
    with pytest.raises(MattermostUnavailable):
        await api.me()
    await api.close()


async def test_json_with_a_charset_is_still_json(server) -> None:  # type: ignore[no-untyped-def]
    test_server, scripted = server

    scripted.content_type = "application/json; charset=utf-8"  # as some proxies rewrite it
    api = api_for(test_server)
    assert (await api.me()).username == "intra-bot"
    await api.close()
