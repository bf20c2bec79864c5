"""A homeserver down at start-up is waited for; a configuration mistake is said at once."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from bot.adapters.matrix.adapter import MatrixAdapter
from bot.adapters.matrix.session import MatrixStartupError
from bot.answers.conversation import Conversation
from bot.config import ConfigError, MatrixSettings
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.store import Store


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def adapter(tmp_path: Path, **values: object) -> MatrixAdapter:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    settings = MatrixSettings.model_validate(
        {"user_id": "@intra-bot:example.org", "password": "pw", "pickle_key": "k" * 32, **values}
    )
    return MatrixAdapter(
        settings,
        Store.open(url),
        url,
        Conversation(ContentSource(DEFAULT_CONTENT_DIR)),
        send_retries=0,
    )


async def test_an_unreachable_homeserver_is_retried_until_stop(tmp_path: Path) -> None:
    bot = adapter(tmp_path, homeserver=f"http://127.0.0.1:{closed_port()}")
    stop = asyncio.Event()
    starting = asyncio.create_task(bot.start_when_reachable(stop))
    deadline = time.monotonic() + 30
    while bot.start_attempts < 2:  # a second attempt: it retried instead of giving up
        assert not starting.done(), starting.exception()
        assert time.monotonic() < deadline, "no retry within 30 s"
        await asyncio.sleep(0.05)  # polling a condition, with a deadline
    stop.set()
    assert await starting is False
    status = bot.status()
    assert status["ok"] is False and "Connect" in status["last_error"]
    assert "127.0.0.1" not in status["last_error"]  # /healthz: the kind, not the address


def test_a_malformed_user_id_is_a_startup_error(tmp_path: Path) -> None:
    with pytest.raises(MatrixStartupError, match="not a Matrix id"):
        adapter(tmp_path, homeserver="http://hs", user_id="intra-bot")


def test_the_adapter_keeps_its_recovery_key_beside_a_sqlite_store(tmp_path: Path) -> None:
    bot = adapter(tmp_path, homeserver="http://hs")
    assert bot.key_file == tmp_path / "store-secrets" / "matrix-recovery-key.txt"


def test_an_adapter_on_postgresql_without_a_recovery_key_file_is_refused(tmp_path: Path) -> None:
    settings = MatrixSettings.model_validate(
        {
            "homeserver": "http://hs",
            "user_id": "@intra-bot:example.org",
            "password": "pw",
            "pickle_key": "k" * 32,
        }
    )
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    conversation = Conversation(ContentSource(DEFAULT_CONTENT_DIR))
    with pytest.raises(ConfigError, match=r"^matrix\.recovery_key_file \("):
        MatrixAdapter(settings, store, "postgresql://bot@127.0.0.1:9/db", conversation)
    configured = settings.model_copy(update={"recovery_key_file": str(tmp_path / "k.txt")})
    bot = MatrixAdapter(configured, store, "postgresql://bot@127.0.0.1:9/db", conversation)
    assert bot.key_file == tmp_path / "k.txt"
