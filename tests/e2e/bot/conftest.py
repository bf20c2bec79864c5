"""Fixtures for the bot's end-to-end tests: setup once per session, a bot per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.bot_process import (
    BotProcess,
    MattermostUser,
    bot_environment,
    command_token_from,
    free_port,
    run_setup,
)
from tests.e2e.tcp_proxy import TcpProxy
from tests.mattermost_server import MattermostServer


@pytest.fixture(scope="session")
def bot_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def command_token(
    mattermost: MattermostServer, bot_port: int, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """Register /intra for this session's bot port with `intra-bot setup`; its token."""
    store = tmp_path_factory.mktemp("setup") / "store.db"
    env = bot_environment(mattermost, bot_port, f"sqlite:///{store}")
    result = run_setup(env, admin_token=mattermost.admin_token)
    assert result.returncode == 0, result.stdout + result.stderr
    return command_token_from(result.stdout)


@pytest.fixture
def bot_env(
    mattermost: MattermostServer, bot_port: int, command_token: str, tmp_path: Path
) -> dict[str, str]:
    return bot_environment(
        mattermost,
        bot_port,
        f"sqlite:///{tmp_path}/store.db",
        INTRA_BOT_HTTP__COMMAND_TOKENS=command_token,
    )


@pytest.fixture
def bot(bot_env: dict[str, str], tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(bot_env, tmp_path / "bot.log").start()
    yield process
    process.stop()


@pytest.fixture
def alice(mattermost: MattermostServer) -> Iterator[MattermostUser]:
    user = MattermostUser(mattermost, "alice.intra")
    yield user
    user.close()


@pytest.fixture
def proxied(mattermost: MattermostServer) -> Iterator[TcpProxy]:
    """A loopback proxy in front of Mattermost, to cut or hold what a bot sends through it."""
    parts = urlsplit(mattermost.url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 80)
    yield proxy
    proxy.release()
    proxy.close()
