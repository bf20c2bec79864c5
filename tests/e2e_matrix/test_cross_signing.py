"""Cross-signing bootstrapped once, seen by an independent client (matrix-nio's HTTP side).

Each test registers a bot account of its own: cross-signing keys live on the homeserver
for good, so the session's shared bot cannot show a first start twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import olm
import pytest
from mautrix.crypto.cross_signing_key import CrossSigningSeeds

from bot.adapters.matrix.cross_signing import publish_keys
from bot.adapters.matrix.session import MatrixStartupError
from bot.answers.conversation import Conversation
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.store import Store
from tests.e2e_matrix.bot_runner import RunningBot
from tests.e2e_matrix.conftest import SynapseServer, bot_settings
from tests.e2e_matrix.nio_user import NioUser

pytestmark = pytest.mark.e2e

PASSWORD = "Fresh-bot-Passw0rd!"


def register(synapse: SynapseServer, localpart: str, password: str) -> str:
    """A new account through the shared-secret admin API; its user id."""
    secret = synapse.env["MX_REGISTRATION_SHARED_SECRET"]
    nonce = synapse.admin("GET", "/_synapse/admin/v1/register")
    assert isinstance(nonce, dict)
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    for part in (nonce["nonce"], localpart, password):
        mac.update(part.encode() + b"\x00")
    mac.update(b"notadmin")
    synapse.admin(
        "POST",
        "/_synapse/admin/v1/register",
        {
            "nonce": nonce["nonce"],
            "username": localpart,
            "password": password,
            "admin": False,
            "mac": mac.hexdigest(),
            "inhibit_login": True,
        },
    )
    return f"@{localpart}:{synapse.server_name}"


@pytest.fixture
def fresh_bot_id(synapse: SynapseServer) -> str:
    return register(synapse, f"bot-{secrets.token_hex(4)}", PASSWORD)


def running_bot(
    synapse: SynapseServer, user_id: str, home: Path, key_file: Path | None
) -> RunningBot:
    """The bot of `user_id` on a SQLite store in `home`; `key_file` None: the default place."""
    store_url = f"sqlite:///{home / 'store.sqlite3'}"
    settings = bot_settings(
        synapse,
        user_id=user_id,
        password=PASSWORD,
        public_room="",
        private_room="",
        recovery_key_file=str(key_file) if key_file else "",
    )
    store = Store.open(store_url)
    return RunningBot(settings, store, store_url, Conversation(ContentSource(DEFAULT_CONTENT_DIR)))


async def query_keys(user: NioUser, user_id: str) -> dict[str, Any]:
    """POST /keys/query as a plain client does, cross-signing keys included."""
    response = await user.client.send(
        "POST",
        "/_matrix/client/v3/keys/query",
        json.dumps({"device_keys": {user_id: []}}),
        headers={"Authorization": f"Bearer {user.client.access_token}"},
    )
    assert response.status == 200, await response.text()
    return dict(await response.json())


def only_key(section: dict[str, Any]) -> str:
    (key,) = section["keys"].values()
    return str(key)


def canonical(obj: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed_by(obj: dict[str, Any], signer: str, public_key: str) -> bool:
    signature = obj.get("signatures", {}).get(signer, {}).get(f"ed25519:{public_key}")
    if not signature:
        return False
    olm.ed25519_verify(public_key, canonical(obj), signature)  # raises when forged
    return True


def bot_device_state(keys: dict[str, Any], user_id: str, device_id: str) -> tuple[str, bool]:
    """(the bot's master key, whether `device_id` is signed by its self-signing key)."""
    master = only_key(keys["master_keys"][user_id])
    self_signing = keys["self_signing_keys"][user_id]
    assert signed_by(self_signing, user_id, master), "self-signing key not signed by master"
    device = keys["device_keys"][user_id][device_id]
    return master, signed_by(device, user_id, only_key(self_signing))


@pytest.fixture
async def observer(synapse: SynapseServer, tmp_path: Path) -> AsyncIterator[NioUser]:
    user = await NioUser.login(
        synapse.url, synapse.user_ids["alice.intra"], synapse.user_password, tmp_path / "alice"
    )
    try:
        yield user
    finally:
        await user.close()


async def test_first_start_cross_signs_the_bot_once_and_keeps_the_recovery_key_secret(
    synapse: SynapseServer,
    fresh_bot_id: str,
    observer: NioUser,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key_file = tmp_path / "secrets" / "recovery-key.txt"
    bot = running_bot(synapse, fresh_bot_id, tmp_path / "first", key_file)
    await bot.start()
    try:
        assert bot.adapter.status()["cross_signing"] == "bootstrapped"  # in /healthz
        device = str(bot.adapter.client.device_id)  # type: ignore[union-attr]
        master, signed = bot_device_state(
            await query_keys(observer, fresh_bot_id), fresh_bot_id, device
        )
        assert signed, "the bot's device is not signed by its self-signing key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        recovery_key = key_file.read_text().strip()
        assert len(recovery_key.replace(" ", "")) >= 40, recovery_key[:4]
        assert recovery_key not in caplog.text
        assert recovery_key.replace(" ", "") not in caplog.text.replace(" ", "")

        await bot.restart()
        assert bot.adapter.cross_signing == "present"
        keys = await query_keys(observer, fresh_bot_id)
        assert bot_device_state(keys, fresh_bot_id, device) == (master, True)
        assert key_file.read_text().strip() == recovery_key
    finally:
        await bot.stop()

    # A new device of the same account (its crypto store lost): signed with the kept key,
    # under the same master key.
    second = running_bot(synapse, fresh_bot_id, tmp_path / "second", key_file)
    await second.start()
    try:
        assert second.adapter.cross_signing == "device_signed"
        new_device = str(second.adapter.client.device_id)  # type: ignore[union-attr]
        assert new_device != device
        keys = await query_keys(observer, fresh_bot_id)
        assert bot_device_state(keys, fresh_bot_id, new_device) == (master, True)
    finally:
        await second.stop()

    # A key file that is not this account's: the bot still starts, unsigned, and says so.
    wrong = tmp_path / "wrong-key.txt"
    wrong.write_text("EsTc not a recovery key\n")
    third = running_bot(synapse, fresh_bot_id, tmp_path / "third", wrong)
    await third.start()
    try:
        assert third.adapter.cross_signing == "device_unsigned"
    finally:
        await third.stop()


async def test_by_default_the_key_goes_to_a_private_directory_beside_the_sqlite_store(
    synapse: SynapseServer,
    fresh_bot_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # the working directory gets nothing
    bot = running_bot(synapse, fresh_bot_id, tmp_path / "data", None)
    await bot.start()
    try:
        assert bot.adapter.cross_signing == "bootstrapped"
    finally:
        await bot.stop()
    secrets_dir = tmp_path / "data" / "store-secrets"
    key_file = secrets_dir / "matrix-recovery-key.txt"
    assert bot.adapter.key_file == key_file
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip().replace(" ", "")) >= 40
    assert list(cwd.iterdir()) == []


async def test_replacing_cross_signing_keys_answers_the_password_challenge(
    synapse: SynapseServer, fresh_bot_id: str, observer: NioUser, tmp_path: Path
) -> None:
    bot = running_bot(synapse, fresh_bot_id, tmp_path / "bot", tmp_path / "key.txt")
    await bot.start()
    try:
        machine = bot.adapter.client.crypto  # type: ignore[union-attr]
        assert machine is not None
        before = only_key((await query_keys(observer, fresh_bot_id))["master_keys"][fresh_bot_id])
        # Keys exist now: Synapse asks for user-interactive auth to replace them.
        with pytest.raises(MatrixStartupError, match=r"refused matrix\.password"):
            await publish_keys(machine, CrossSigningSeeds.generate(), "wrong password")
        with pytest.raises(MatrixStartupError, match=r"set matrix\.password"):
            await publish_keys(machine, CrossSigningSeeds.generate(), "")
        await publish_keys(machine, CrossSigningSeeds.generate(), PASSWORD)
        after = only_key((await query_keys(observer, fresh_bot_id))["master_keys"][fresh_bot_id])
        assert after != before
    finally:
        await bot.stop()
