"""End-to-end fixtures for Matrix: a real Synapse started by scripts/synapse.sh.

The session-scoped ``synapse`` fixture runs ``scripts/synapse.sh up`` (which installs
Synapse once into the cache, then reuses it and a running server) and returns the
values of ``scripts/synapse.sh env``. When Synapse cannot be installed or started
the fixture FAILS the tests: it never skips. A server this session started is stopped
when it ends (tests/servers.py; INTRA_BOT_KEEP_SERVERS=1 keeps it).
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.answers.conversation import Conversation
from bot.chat import Platforms
from bot.config import MatrixSettings
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.store import Store
from tests.e2e_matrix.bot_runner import RunningBot
from tests.e2e_matrix.nio_user import NioUser
from tests.e2e_matrix.referents import MARINE
from tests.servers import LEASES, SYNAPSE

REPO_ROOT = Path(__file__).resolve().parents[2]
# matrix.pickle_key is required with a homeserver (never kept in the store it protects).
PICKLE_KEY = "e2e-pickle-key-0123456789abcdefghijklmnop"
# A cold `up` installs Synapse from PyPI into a venv (about a minute, more on a busy machine).
UP_TIMEOUT_S = int(os.environ.get("INTRA_BOT_SYNAPSE_UP_TIMEOUT", "1200"))


@dataclass(frozen=True)
class SynapseServer:
    url: str
    server_name: str
    admin_token: str
    bot_user_id: str
    bot_password: str
    user_password: str
    intra_users: tuple[str, ...]
    referent_users: tuple[str, ...]
    user_ids: dict[str, str]
    public_room_id: str
    public_room_alias: str
    private_room_id: str
    env: dict[str, str] = field(repr=False)

    def admin(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + self.admin_token)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def delete_devices(self, user_id: str) -> None:
        """Forget every device of `user_id`: each test session starts with one per client."""
        user = urllib.parse.quote(user_id, safe="")
        listing = self.admin("GET", f"/_synapse/admin/v2/users/{user}/devices")
        assert isinstance(listing, dict)
        devices = [d["device_id"] for d in listing.get("devices", [])]
        if devices:
            self.admin(
                "POST", f"/_synapse/admin/v2/users/{user}/delete_devices", {"devices": devices}
            )


def _parse_env(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


def start_synapse() -> SynapseServer:
    # Stopped at the session's end if this session started it (tests/servers.py).
    LEASES.take(SYNAPSE)
    try:
        up = SYNAPSE.run("up", timeout=UP_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"scripts/synapse.sh up did not finish within {UP_TIMEOUT_S} s: {exc}", pytrace=False
        )
    if up.returncode != 0:
        pytest.fail(
            f"scripts/synapse.sh up failed (exit {up.returncode})\n"
            f"--- stdout ---\n{up.stdout}\n--- stderr ---\n{up.stderr}",
            pytrace=False,
        )
    res = SYNAPSE.run("env", timeout=60)
    if res.returncode != 0:
        pytest.fail(f"scripts/synapse.sh env failed:\n{res.stdout}\n{res.stderr}", pytrace=False)
    env = _parse_env(res.stdout)
    try:
        intra = tuple(u for u in env["MX_INTRA_USERS"].split(",") if u)
        referents = tuple(u for u in env["MX_REFERENT_USERS"].split(",") if u)
        user_ids = {
            name: env["MX_USER_" + name.upper().replace(".", "_").replace("-", "_") + "_ID"]
            for name in intra + referents
        }
        return SynapseServer(
            url=env["MX_HOMESERVER"],
            server_name=env["MX_SERVER_NAME"],
            admin_token=env["MX_ADMIN_TOKEN"],
            bot_user_id=env["MX_BOT_USER_ID"],
            bot_password=env["MX_BOT_PASSWORD"],
            user_password=env["MX_USER_PASSWORD"],
            intra_users=intra,
            referent_users=referents,
            user_ids=user_ids,
            public_room_id=env["MX_PUBLIC_ROOM_ID"],
            public_room_alias=env["MX_PUBLIC_ROOM_ALIAS"],
            private_room_id=env["MX_PRIVATE_ROOM_ID"],
            env=env,
        )
    except KeyError as exc:
        pytest.fail(f"scripts/synapse.sh env lacks {exc}:\n{res.stdout}", pytrace=False)


@pytest.fixture(scope="session")
def synapse() -> SynapseServer:
    """The running, bootstrapped Synapse (started once per session; devices reset)."""
    server = start_synapse()
    # Devices left by earlier sessions would each get a copy of every room key.
    for user_id in [server.bot_user_id, *server.user_ids.values()]:
        server.delete_devices(user_id)
    return server


@pytest.fixture(scope="session")
def bot_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the bot keeps its store and crypto store for the whole session (one device)."""
    return tmp_path_factory.mktemp("matrix-bot")


def bot_settings(synapse: SynapseServer, **overrides: object) -> MatrixSettings:
    return MatrixSettings.model_validate(bot_matrix_section(synapse, **overrides))


def bot_matrix_section(synapse: SynapseServer, **overrides: object) -> dict[str, object]:
    """The `[matrix]` section for the test bot."""
    values: dict[str, object] = {
        "homeserver": synapse.url,
        "user_id": synapse.bot_user_id,
        "password": synapse.bot_password,
        "pickle_key": PICKLE_KEY,
        "public_room": synapse.public_room_alias,
        "private_room": synapse.private_room_id,
        # The e2e tests send questions back to back; Tchap's 1/s pace is tested in unit tests.
        "requests_per_second": 50.0,
        "burst": 50,
    }
    values.update(overrides)
    return values


@pytest.fixture
async def bot(synapse: SynapseServer, bot_home: Path) -> AsyncIterator[RunningBot]:
    """The Matrix adapter, running in the test's loop on the session's stores."""
    store_url = f"sqlite:///{bot_home / 'intra-bot.sqlite3'}"
    store = Store.open(store_url)
    # As the app wires it: replies in the words of the platform they go to.
    platforms = Platforms()
    conversation = Conversation(ContentSource(DEFAULT_CONTENT_DIR), dialects=platforms.dialect)
    running = RunningBot(bot_settings(synapse), store, store_url, conversation)
    platforms.add(running.adapter.platform)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        store.close()


async def login_user(synapse: SynapseServer, name: str, home: Path) -> NioUser:
    return await NioUser.login(synapse.url, synapse.user_ids[name], synapse.user_password, home)


@pytest.fixture
async def alice(synapse: SynapseServer, tmp_path: Path) -> AsyncIterator[NioUser]:
    """An intra on an independent E2EE client (matrix-nio), with a device of her own."""
    user = await login_user(synapse, "alice.intra", tmp_path / "alice")
    try:
        yield user
    finally:
        await user.close()


@pytest.fixture
async def marine(synapse: SynapseServer, tmp_path: Path) -> AsyncIterator[NioUser]:
    """A referent (Marine Purson): a member of the encrypted private room."""
    user = await login_user(synapse, MARINE, tmp_path / "marine")
    try:
        yield user
    finally:
        await user.close()


@pytest.fixture
async def bruno(synapse: SynapseServer, tmp_path: Path) -> AsyncIterator[NioUser]:
    user = await login_user(synapse, "bruno.intra", tmp_path / "bruno")
    try:
        yield user
    finally:
        await user.close()
