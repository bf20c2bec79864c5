"""The real Mattermost server of the tests, started by scripts/mattermost.sh.

Shared by the e2e fixtures (`tests/e2e/conftest.py`) and the integration ones that need
its PostgreSQL (`tests/integration/conftest.py`), so neither imports the other's conftest.
`start_mattermost` runs ``scripts/mattermost.sh up`` (which builds the server once, then
reuses the cached binary and a running server) and returns the values of
``scripts/mattermost.sh env``. When the server cannot be built or started it FAILS the
tests: it never skips. A server this session started is stopped when it ends
(tests/servers.py; INTRA_BOT_KEEP_SERVERS=1 keeps it).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.servers import LEASES, MATTERMOST

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "mattermost.sh"
# A cold `up` builds Mattermost from source (~10-20 min on 2 cores).
UP_TIMEOUT_S = int(os.environ.get("INTRA_BOT_MM_UP_TIMEOUT", "3600"))


@dataclass(frozen=True)
class MattermostServer:
    url: str
    team: str
    team_id: str
    admin_token: str
    admin_user_id: str
    bot_token: str
    bot_user_id: str
    bot_username: str
    public_channel: str
    public_channel_id: str
    private_channel: str
    private_channel_id: str
    user_password: str
    intra_users: tuple[str, ...]
    referent_users: tuple[str, ...]
    user_ids: dict[str, str]
    pg_dsn: str | None
    env: dict[str, str] = field(repr=False)

    @property
    def ws_url(self) -> str:
        return (
            self.url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
            + "/api/v4/websocket"
        )

    def client(self, token: str | None = None) -> httpx.Client:
        """A sync httpx client on /api/v4, authenticated with ``token`` if given."""
        headers = {"X-Requested-With": "XMLHttpRequest"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url + "/api/v4", headers=headers, timeout=30)

    def login(self, username: str, password: str | None = None) -> str:
        """Log a test user in; returns its session token."""
        with self.client() as c:
            r = c.post(
                "/users/login",
                json={"login_id": username, "password": password or self.user_password},
            )
            r.raise_for_status()
            return r.headers["Token"]


def _run(*args: str, timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _parse_env(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


def start_mattermost() -> MattermostServer:
    # Stopped at the session's end if this session started it (tests/servers.py).
    LEASES.take(MATTERMOST)
    try:
        up = _run("up", timeout=UP_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        out, err = (
            x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
            for x in (exc.stdout, exc.stderr)
        )
        pytest.fail(
            f"scripts/mattermost.sh up did not finish within {UP_TIMEOUT_S} s\n"
            f"--- stdout ---\n{out}\n--- stderr ---\n{err}",
            pytrace=False,
        )
    if up.returncode != 0:
        pytest.fail(
            f"scripts/mattermost.sh up failed (exit {up.returncode})\n"
            f"--- stdout ---\n{up.stdout}\n--- stderr ---\n{up.stderr}",
            pytrace=False,
        )
    res = _run("env", timeout=60)
    if res.returncode != 0:
        pytest.fail(f"scripts/mattermost.sh env failed:\n{res.stdout}\n{res.stderr}", pytrace=False)
    env = _parse_env(res.stdout)
    intra = tuple(u for u in env.get("MM_INTRA_USERS", "").split(",") if u)
    referents = tuple(u for u in env.get("MM_REFERENT_USERS", "").split(",") if u)
    user_ids = {}
    for username in intra + referents:
        key = "MM_USER_" + username.upper().replace(".", "_").replace("-", "_") + "_ID"
        user_ids[username] = env[key]
    try:
        return MattermostServer(
            url=env["MM_URL"],
            team=env["MM_TEAM"],
            team_id=env["MM_TEAM_ID"],
            admin_token=env["MM_ADMIN_TOKEN"],
            admin_user_id=env["MM_ADMIN_USER_ID"],
            bot_token=env["MM_BOT_TOKEN"],
            bot_user_id=env["MM_BOT_USER_ID"],
            bot_username=env["MM_BOT_USERNAME"],
            public_channel=env["MM_PUBLIC_CHANNEL"],
            public_channel_id=env["MM_PUBLIC_CHANNEL_ID"],
            private_channel=env["MM_PRIVATE_CHANNEL"],
            private_channel_id=env["MM_PRIVATE_CHANNEL_ID"],
            user_password=env["MM_USER_PASSWORD"],
            intra_users=intra,
            referent_users=referents,
            user_ids=user_ids,
            pg_dsn=env.get("INTRA_BOT_TEST_PG_DSN"),
            env=env,
        )
    except KeyError as exc:
        pytest.fail(f"scripts/mattermost.sh env lacks {exc}:\n{res.stdout}", pytrace=False)


def retire_leftover_users(server: MattermostServer) -> int:
    """Deactivate every active person the bootstrap did not make; how many.

    The tests make a new user for each newcomer (`create_intra`) and nothing removes them.
    A server without a licence refuses to create users past 250 active ones
    (`api.user.create_user.user_limits.exceeded`, server/channels/app/limits.go), so a
    test server reused for a day of runs ends up failing every test that needs a newcomer.
    Deactivated users no longer count, and their DMs with the bot stay, as on a server
    that has lived a year.
    """
    keep = {*server.user_ids.values(), server.admin_user_id, server.bot_user_id}
    retired = 0
    with server.client(server.admin_token) as admin:
        while True:
            # Always page 0: each pass deactivates what it listed, so the list shrinks.
            listed = admin.get("/users", params={"active": "true", "per_page": 200}).json()
            leftovers = [u for u in listed if u["id"] not in keep and not u.get("is_bot")]
            for user in leftovers:
                admin.delete(f"/users/{user['id']}").raise_for_status()
            retired += len(leftovers)
            if len(listed) < 200 or not leftovers:
                return retired
