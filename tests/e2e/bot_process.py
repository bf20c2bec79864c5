"""The bot as users meet it: `intra-bot setup` and `intra-bot run` as real processes
against the real server, and helpers to act as an intra user through the REST API."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.mattermost_server import REPO_ROOT, MattermostServer

READY_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_environment() -> dict[str, str]:
    """The environment of a real `python -m bot run` under test: this process's, without
    its INTRA_BOT_ settings and without coverage. The end-to-end tests time the bot as it
    ships (ready within 5 s, deadlines, paces); coverage's tracer in the child more than
    doubled its start-up (2.6 s -> 5-9 s). The unit, services, contract, CLI and
    integration tests still measure coverage, child processes included."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("INTRA_BOT_") and not k.startswith("COVERAGE_PROCESS_")
    }


def bot_environment(
    server: MattermostServer, port: int, store_url: str, **extra: str
) -> dict[str, str]:
    env = process_environment()
    env.update(
        {
            "INTRA_BOT_MATTERMOST__URL": server.url,
            "INTRA_BOT_MATTERMOST__TOKEN": server.bot_token,
            "INTRA_BOT_HTTP__HOST": "127.0.0.1",
            "INTRA_BOT_HTTP__PORT": str(port),
            "INTRA_BOT_HTTP__PUBLIC_URL": f"http://127.0.0.1:{port}",
            "INTRA_BOT_STORE__URL": store_url,
            "INTRA_BOT_LOGGING__LEVEL": "DEBUG",
        }
    )
    env.update(extra)
    return env


def run_setup(
    env: dict[str, str], admin_token: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(env)
    if admin_token:
        env["INTRA_BOT_SETUP_ADMIN_TOKEN"] = admin_token
    return subprocess.run(
        [sys.executable, "-m", "bot", "setup"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def command_token_from(setup_output: str) -> str:
    for line in setup_output.splitlines():
        if "command_tokens = [" in line:
            return line.split('"')[1]
    raise AssertionError(f"setup printed no command token:\n{setup_output}")


@dataclass
class BotProcess:
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    ready_after: float = 0.0
    extra_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.env["INTRA_BOT_HTTP__PUBLIC_URL"]

    def start(self, wait_ready: bool = True) -> BotProcess:
        self.log_file = self.log_path.open("ab")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *self.extra_args],
            env=self.env,
            cwd=REPO_ROOT,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        if wait_ready:
            self.wait_ready()
        return self

    def health(self) -> tuple[int, dict[str, Any]]:
        # http.client, not httpx: a new httpx client builds an SSL context (tens of ms of
        # CPU), which made polling slow the very start-up it measures.
        connection = http.client.HTTPConnection(
            "127.0.0.1", int(self.env["INTRA_BOT_HTTP__PORT"]), timeout=2
        )
        try:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited ({self.process.returncode}):\n{self.logs()}")
            try:
                status, _ = self.health()
                if status == 200:
                    self.ready_after = time.monotonic() - self.started_at
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError(f"the bot was not ready within {timeout} s:\n{self.logs()}")

    def stop(self) -> float:
        """SIGTERM, and the seconds it took to exit."""
        assert self.process is not None
        if self.process.poll() is not None:
            return 0.0
        start = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()
        return time.monotonic() - start

    def logs(self) -> str:
        """The log's end, for a failure message (search `log_text()`: lines scroll out)."""
        return self.log_path.read_text(errors="replace")[-6000:]

    def log_text(self) -> str:
        """The whole log, to look for a line: at DEBUG, a few REST calls after it would
        push it out of `logs()`."""
        return self.log_path.read_text(errors="replace")


class MattermostUser:
    """An intra user (or referent) acting through the REST API with their own session."""

    def __init__(self, server: MattermostServer, username: str) -> None:
        self.server = server
        self.username = username
        self.id = server.user_ids[username]
        self.client = server.client(server.login(username))

    def close(self) -> None:
        self.client.close()

    def post(self, channel_id: str, message: str, root_id: str = "") -> dict[str, Any]:
        body = {"channel_id": channel_id, "message": message, "root_id": root_id}
        response = self.client.post("/posts", json=body)
        response.raise_for_status()
        return dict(response.json())

    def dm_channel_with(self, user_id: str) -> str:
        response = self.client.post("/channels/direct", json=[self.id, user_id])
        response.raise_for_status()
        return str(response.json()["id"])

    def run_command(self, channel_id: str, command: str) -> dict[str, Any]:
        response = self.client.post(
            "/commands/execute", json={"channel_id": channel_id, "command": command}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def posts_in(self, channel_id: str, since_ms: int = 0) -> list[dict[str, Any]]:
        response = self.client.get(
            f"/channels/{channel_id}/posts",
            params={"since": since_ms} if since_ms else {"per_page": 60},
        )
        response.raise_for_status()
        data = response.json()
        posts = list(data["posts"].values())
        return sorted(posts, key=lambda post: post["create_at"])

    def wait_for_post(
        self,
        channel_id: str,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 15.0,
        since_ms: int = 0,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for post in self.posts_in(channel_id, since_ms):
                if predicate(post):
                    return post
            time.sleep(0.1)
        raise AssertionError(f"no matching post in {channel_id} within {timeout} s")


def create_intra(server: MattermostServer, name: str, password: str, **profile: str) -> str:
    """A new user in the team and in the public channel (as an intra joining); their id."""
    with server.client(server.admin_token) as admin:
        user = admin.post(
            "/users",
            json={
                "username": name,
                "email": f"{name}@example.test",
                "password": password,
                **profile,
            },
        )
        user.raise_for_status()
        user_id = str(user.json()["id"])
        admin.post(
            f"/teams/{server.team_id}/members", json={"team_id": server.team_id, "user_id": user_id}
        ).raise_for_status()
        admin.post(
            f"/channels/{server.public_channel_id}/members", json={"user_id": user_id}
        ).raise_for_status()
    return user_id


def restore_bot_in_private_channel(server: MattermostServer) -> None:
    """Put the bot back in the private channel as channel admin (after a test removed it)."""
    channel, bot = server.private_channel_id, server.bot_user_id
    with server.client(server.admin_token) as admin:
        admin.post(f"/channels/{channel}/members", json={"user_id": bot}).raise_for_status()
        admin.put(
            f"/channels/{channel}/members/{bot}/schemeRoles",
            json={"scheme_admin": True, "scheme_user": True},
        ).raise_for_status()


def now_ms() -> int:
    return int(time.time() * 1000)
