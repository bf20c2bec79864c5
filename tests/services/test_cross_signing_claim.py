"""Two replicas starting at once on one store bootstrap cross-signing once between them."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.adapters.matrix.cross_signing import ensure_cross_signing
from bot.config import MatrixSettings
from bot.store import Store

SETTINGS = MatrixSettings.model_validate({"user_id": "@bot:example.org", "password": "pw"})


class FakeMachine:
    """What `ensure_cross_signing` uses of mautrix's OlmMachine, for a bot with no keys yet.

    Every homeserver call yields to the loop, so a second replica runs in between.
    """

    def __init__(self, journal: list[str], name: str) -> None:
        self.journal = journal
        self.name = name
        self.client = SimpleNamespace(mxid="@bot:example.org", device_id="DEVICE")
        self.ssss = SimpleNamespace(
            generate_and_upload_key=self._generate, set_default_key_id=self._step("default")
        )
        self.own_identity = "identity"
        self._upload_cross_signing_keys_to_ssss = self._step("ssss")
        self._publish_cross_signing_keys = self._step("publish")
        self.sign_own_device = self._step("sign")

    async def get_own_cross_signing_public_keys(self) -> None:
        await asyncio.sleep(0)
        return None

    async def _generate(self) -> Any:
        await asyncio.sleep(0)
        self.journal.append(f"{self.name}:generate")
        return SimpleNamespace(recovery_key=f"EsT {self.name} key", id="key-id")

    def _step(self, what: str) -> Any:
        async def step(*args: Any, **kwargs: Any) -> None:
            await asyncio.sleep(0)
            self.journal.append(f"{self.name}:{what}")

        return step


async def test_one_of_two_replicas_bootstraps_and_writes_the_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    first, second = Store.open(url), Store.open(url)
    journal: list[str] = []
    key_file = tmp_path / "key.txt"
    outcomes = await asyncio.gather(
        ensure_cross_signing(FakeMachine(journal, "a"), first, SETTINGS, key_file),
        ensure_cross_signing(FakeMachine(journal, "b"), second, SETTINGS, key_file),
    )
    assert sorted(outcomes) == ["bootstrapped", "claimed_elsewhere"]
    winner = "a" if outcomes[0] == "bootstrapped" else "b"
    assert journal == [
        f"{winner}:{step}" for step in ("generate", "ssss", "publish", "default", "sign")
    ]
    assert key_file.read_text() == f"EsT {winner} key\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
