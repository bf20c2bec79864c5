"""A button posted before a restart still works after it; a button of another bot does not.

The « before » bot runs in its own process, wired by `BotApp` exactly as in production,
and hands out an « Accepter » button; the « after » bot, a new `BotApp` from the same
settings in this process, receives the click.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.mattermost.actions import ACTION_PATH
from bot.app import BotApp
from bot.config import load_settings

BEFORE_RESTART = """
import json, sys
from bot.app import BotApp
from bot.chat import Button
from bot.config import load_settings
from bot.invitations.texts import ACCEPT

contexts = []
for env in json.loads(sys.argv[1]):
    app = BotApp(load_settings(environ=env))
    contexts.append(app.mattermost.signer.action(Button("Accepter", ACCEPT, "inv-1"))["integration"]["context"])
    app.store.close()
print(json.dumps(contexts))
"""


def settings_env(store: Path, token: str, secret: str = "") -> dict[str, str]:
    config = store.parent / "config.toml"  # empty: only these variables count
    config.touch()
    return {
        "INTRA_BOT_CONFIG": str(config),
        "INTRA_BOT_MATTERMOST__TOKEN": token,
        "INTRA_BOT_HTTP__SIGNING_SECRET": secret,
        "INTRA_BOT_STORE__URL": f"sqlite:///{store}",
    }


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Buttons signed by bots in another process: with the token only, then with a secret.

    One process for all: starting one costs seconds on a busy machine.
    """
    folder = tmp_path_factory.mktemp("before")
    envs = [
        settings_env(folder / "a.db", token="bot-token-1"),
        settings_env(
            folder / "b.db", token="bot-token-1", secret="s3cret-for-buttons-0123456789abcdef"
        ),
    ]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INTRA_BOT_")}
    done = subprocess.run(
        [sys.executable, "-c", BEFORE_RESTART, json.dumps(envs)],
        env=clean,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    contexts: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return contexts


async def click(env: Mapping[str, str], context: dict[str, Any]) -> tuple[int, Any]:
    """Send the click to a fresh bot built from `env`: (status, body)."""
    bot = BotApp(load_settings(environ=env))
    app = web.Application()
    app.router.add_routes(bot.mattermost.actions.routes())
    try:
        async with TestClient(TestServer(app)) as client:
            # No user id: a verified click stops at « who is it? », before any API call.
            response = await client.post(ACTION_PATH, json={"context": context})
            return response.status, await response.json()
    finally:
        bot.store.close()
        await bot.mattermost.api.close()


async def test_a_button_signed_before_a_restart_verifies_after_it(
    tmp_path: Path, before: list[dict[str, Any]]
) -> None:
    status, body = await click(settings_env(tmp_path / "s.db", token="bot-token-1"), before[0])
    assert status == 200, body
    assert body == {"ephemeral_text": "Je n'ai pas pu vous identifier, réessayez."}


async def test_a_button_of_a_bot_with_another_token_is_refused(
    tmp_path: Path, before: list[dict[str, Any]]
) -> None:
    status, body = await click(settings_env(tmp_path / "s.db", token="bot-token-2"), before[0])
    assert (status, body) == (403, {"error": "bad signature"})


async def test_with_a_signing_secret_buttons_survive_a_token_rotation(
    tmp_path: Path, before: list[dict[str, Any]]
) -> None:
    rotated = settings_env(
        tmp_path / "s.db", token="bot-token-2", secret="s3cret-for-buttons-0123456789abcdef"
    )
    status, _ = await click(rotated, before[1])
    assert status == 200
    other_secret = settings_env(
        tmp_path / "s.db", token="bot-token-1", secret="another-secret-0123456789abcdefghijk"
    )
    status, _ = await click(other_secret, before[1])
    assert status == 403
