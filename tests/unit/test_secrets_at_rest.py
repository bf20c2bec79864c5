"""What the bot writes and prints keeps secrets: private store files whatever the umask,
database URLs masked in errors, libraries that log bodies kept above DEBUG."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import load_settings
from bot.database_url import DatabaseUrl
from bot.files import private_file
from bot.logs import QUIET_LIBRARIES, configure_logging
from bot.store import Store, StoreError, _safe


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive usual umask: what a file gets when nobody asks for better."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_a_new_sqlite_store_and_its_wal_files_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "intra-bot.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    try:
        with store.engine.begin() as connection:  # a write: WAL mode makes -wal and -shm
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert all(f.exists() for f in files), sorted(p.name for p in path.parent.iterdir())
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert mode(path.parent) == 0o700  # the directory it made for the store
    finally:
        store.close()


@pytest.mark.usefixtures("open_umask")
def test_an_existing_file_keeps_the_mode_its_operator_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o640)
    private_file(path)
    assert mode(path) == 0o640  # untouched


def test_database_urls_are_masked_password_and_secret_parameters_alike() -> None:
    url = "postgresql+psycopg://bot:pw1@db/intra?password=pw2&sslmode=require&sslpassword=pw3"
    assert _safe(url) == (
        "postgresql+psycopg://bot:***@db/intra?password=***&sslmode=require&sslpassword=***"
    )
    assert _safe("postgresql://db/intra?user=bot&PassWord=pw4") == (
        "postgresql://db/intra?user=bot&PassWord=***"
    )
    assert _safe("sqlite:////var/lib/intra-bot/intra-bot.sqlite3") == (
        "sqlite:////var/lib/intra-bot/intra-bot.sqlite3"
    )


def test_a_store_that_cannot_be_reached_is_named_without_its_passwords() -> None:
    with pytest.raises(StoreError) as caught:  # nothing listens on port 1
        Store.open("postgresql://bot:pw1@127.0.0.1:1/intra?password=pw2&connect_timeout=2")
    message = str(caught.value)
    assert message.startswith("cannot open the store at postgresql+psycopg://bot:***@127.0.0.1:1")
    assert "pw1" not in message and "pw2" not in message


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, previous in levels.items():
        logging.getLogger(name).setLevel(previous)


@pytest.mark.usefixtures("restored_logging")
def test_libraries_that_log_bodies_stay_above_debug_whatever_the_level() -> None:
    configure_logging("DEBUG")
    assert logging.getLogger("bot.app").isEnabledFor(logging.DEBUG)  # the bot's own DEBUG
    for name in ("mau.http", "mau.client.crypto", "aiosqlite", "asyncpg", "httpcore.http11"):
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.DEBUG), name
        assert logger.isEnabledFor(logging.INFO), name
    # Any library, named here or not (the driver's websocket, a future dependency).
    for name in ("aiohttp.client", "websockets.client", "some.library.added.later"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
    configure_logging("WARNING")
    assert not logging.getLogger("mau.http").isEnabledFor(logging.INFO)  # never lowered
    assert not logging.getLogger("bot.app").isEnabledFor(logging.INFO)


def test_database_urls_are_secrets_in_the_settings_printed_masked(tmp_path: Path) -> None:
    url = "postgresql://bot:hunter2@db/intrabot?sslpassword=s3cret&sslmode=require"
    empty = tmp_path / "config.toml"
    empty.touch()
    settings = load_settings(
        environ={
            "INTRA_BOT_CONFIG": str(empty),
            "INTRA_BOT_STORE__URL": url,
            "INTRA_BOT_MATRIX__CRYPTO_STORE_URL": url,
        }
    )
    for printed in (repr(settings), str(settings), repr(settings.store), repr(settings.matrix)):
        assert "hunter2" not in printed and "s3cret" not in printed
        assert "postgresql://bot:***@db/intrabot?sslpassword=***&sslmode=require" in printed
    # Used as the string it is: what SQLAlchemy and mautrix are given is the whole URL.
    assert settings.store.url == url and f"{settings.matrix.crypto_store_url}" == url
    default = load_settings(environ={"INTRA_BOT_CONFIG": str(empty)}).store.url
    assert default == "sqlite:///intra-bot.sqlite3" and isinstance(default, DatabaseUrl)
