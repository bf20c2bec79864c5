"""Smoke tests of the real Mattermost server used by the e2e suite.

They check what the bot relies on: its token, posting, the websocket event
stream, and slash commands calling back a responder on loopback.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import aiohttp
import httpx
import pytest

if TYPE_CHECKING:
    from tests.mattermost_server import MattermostServer

pytestmark = pytest.mark.e2e


def test_bot_token_reads_users_me(mattermost: MattermostServer) -> None:
    with mattermost.client(mattermost.bot_token) as c:
        r = c.get("/users/me")
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["username"] == "intra-bot"
    assert me["is_bot"] is True
    assert me["id"] == mattermost.bot_user_id


def test_bootstrap_memberships(mattermost: MattermostServer) -> None:
    with mattermost.client(mattermost.admin_token) as c:
        pub = c.get(f"/channels/{mattermost.public_channel_id}").json()
        priv = c.get(f"/channels/{mattermost.private_channel_id}").json()
        assert (pub["name"], pub["type"]) == ("domaine-intrapreneurs", "O")
        assert (priv["name"], priv["type"]) == ("domaine-intras-prive", "P")
        for username in mattermost.intra_users:
            uid = mattermost.user_ids[username]
            assert c.get(f"/channels/{pub['id']}/members/{uid}").status_code == 200
            assert c.get(f"/channels/{priv['id']}/members/{uid}").status_code == 404
        for username in mattermost.intra_users + mattermost.referent_users:
            uid = mattermost.user_ids[username]
            assert c.get(f"/teams/{mattermost.team_id}/members/{uid}").status_code == 200
        bot_priv = c.get(f"/channels/{priv['id']}/members/{mattermost.bot_user_id}")
        assert bot_priv.status_code == 200, bot_priv.text
        assert bot_priv.json()["scheme_admin"] is True
        assert c.get(f"/channels/{pub['id']}/members/{mattermost.bot_user_id}").status_code == 200


def test_bot_post_is_readable_by_intra_user(mattermost: MattermostServer) -> None:
    marker = f"smoke bot post {uuid.uuid4()}"
    with mattermost.client(mattermost.bot_token) as bot:
        r = bot.post("/posts", json={"channel_id": mattermost.public_channel_id, "message": marker})
    assert r.status_code == 201, r.text
    post = r.json()
    assert post["user_id"] == mattermost.bot_user_id

    alice_token = mattermost.login("alice.intra")
    with mattermost.client(alice_token) as alice:
        r = alice.get(f"/posts/{post['id']}")
        assert r.status_code == 200, r.text
        assert r.json()["message"] == marker
        r = alice.get(f"/channels/{mattermost.public_channel_id}/posts", params={"per_page": 20})
        assert r.status_code == 200, r.text
        messages = [p["message"] for p in r.json()["posts"].values()]
        assert marker in messages


async def test_websocket_receives_posted_event(mattermost: MattermostServer) -> None:
    marker = f"smoke websocket {uuid.uuid4()}"
    alice_token = mattermost.login("alice.intra")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(mattermost.ws_url, heartbeat=20) as ws,
    ):
        await ws.send_json(
            {
                "seq": 1,
                "action": "authentication_challenge",
                "data": {"token": mattermost.bot_token},
            }
        )

        async def next_json() -> dict[str, Any]:
            msg = await ws.receive(timeout=15)
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            frame: dict[str, Any] = json.loads(msg.data)
            return frame

        # hello event and the reply to our challenge, in either order
        authenticated = False
        deadline = time.monotonic() + 15
        while not authenticated:
            assert time.monotonic() < deadline, "no reply to authentication_challenge"
            frame = await next_json()
            if frame.get("seq_reply") == 1:
                assert frame.get("status") == "OK", frame
                authenticated = True

        async with httpx.AsyncClient(
            base_url=mattermost.url + "/api/v4",
            headers={"Authorization": f"Bearer {alice_token}"},
            timeout=30,
        ) as alice:
            r = await alice.post(
                "/posts", json={"channel_id": mattermost.public_channel_id, "message": marker}
            )
            assert r.status_code == 201, r.text
            post_id = r.json()["id"]

        deadline = time.monotonic() + 15
        while True:
            assert time.monotonic() < deadline, "no 'posted' event for alice's post"
            frame = await next_json()
            if frame.get("event") != "posted":
                continue
            post = json.loads(frame["data"]["post"])  # data.post is a JSON string
            if post["id"] != post_id:
                continue
            assert post["message"] == marker
            assert post["user_id"] == mattermost.user_ids["alice.intra"]
            assert post["channel_id"] == mattermost.public_channel_id
            assert frame["broadcast"]["channel_id"] == mattermost.public_channel_id
            assert frame["data"]["sender_name"] == "@alice.intra"
            break


class _Responder:
    """A tiny slash-command endpoint on 127.0.0.1 (free port) in a thread."""

    def __init__(self) -> None:
        self.requests: list[dict[str, list[str]]] = []
        responder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                responder.requests.append(form)
                text = form.get("text", [""])[0]
                body = json.dumps({"response_type": "ephemeral", "text": f"pong {text}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/command"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Responder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def responder() -> Iterator[_Responder]:
    with _Responder() as r:
        yield r


def test_intra_user_runs_custom_slash_command_on_loopback(
    mattermost: MattermostServer, responder: _Responder
) -> None:
    trigger = f"e2eping{uuid.uuid4().hex[:8]}"
    with mattermost.client(mattermost.admin_token) as admin:
        r = admin.post(
            "/commands",
            json={
                "team_id": mattermost.team_id,
                "trigger": trigger,
                "method": "P",
                "url": responder.url,
                "display_name": "e2e ping",
                "description": "smoke test command",
            },
        )
        assert r.status_code == 201, r.text
        command = r.json()
        try:
            alice_token = mattermost.login("alice.intra")
            with mattermost.client(alice_token) as alice:
                r = alice.post(
                    "/commands/execute",
                    json={
                        "channel_id": mattermost.public_channel_id,
                        "team_id": mattermost.team_id,
                        "command": f"/{trigger} hello there",
                    },
                )
            assert r.status_code == 200, r.text
            assert r.json()["text"] == "pong hello there"
            assert len(responder.requests) == 1
            form = responder.requests[0]
            assert form["user_name"] == ["alice.intra"]
            assert form["command"] == [f"/{trigger}"]
            assert form["token"] == [command["token"]]
            assert form["channel_id"] == [mattermost.public_channel_id]
        finally:
            admin.delete(f"/commands/{command['id']}")


def test_pg_test_database_is_reachable(mattermost: MattermostServer) -> None:
    assert mattermost.pg_dsn and mattermost.pg_dsn.endswith("/intrabot_test")
    # no driver dependency here: a raw TCP connect proves the cluster listens
    host_port = mattermost.pg_dsn.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)

    async def probe() -> None:
        _, writer = await asyncio.open_connection(host, int(port))
        writer.close()
        await writer.wait_closed()

    asyncio.run(probe())
