"""Where the crypto store goes when the operator names none."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.adapters.matrix.stores import MatrixStoreError, MatrixStores, crypto_store_url


def test_an_explicit_url_wins() -> None:
    assert crypto_store_url("postgresql://u:p@h/x", "sqlite:///a.sqlite3") == "postgresql://u:p@h/x"


def test_sqlite_gets_a_file_of_its_own_beside_the_store(tmp_path: Path) -> None:
    url = crypto_store_url("", f"sqlite:///{tmp_path}/data/intra-bot.sqlite3")
    assert url == f"sqlite:{tmp_path}/data/intra-bot-matrix.sqlite3"


def test_a_relative_sqlite_path_is_made_absolute(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (
        crypto_store_url("", "sqlite:///intra-bot.sqlite3")
        == f"sqlite:{tmp_path}/intra-bot-matrix.sqlite3"
    )


def test_postgresql_shares_the_bots_database_through_asyncpg() -> None:
    assert (
        crypto_store_url("", "postgresql+psycopg://u:p@db:5432/bot")
        == "postgresql://u:p@db:5432/bot"
    )
    assert crypto_store_url("", "postgresql://u:p@db/bot") == "postgresql://u:p@db/bot"


def test_an_in_memory_store_cannot_keep_keys() -> None:
    with pytest.raises(MatrixStoreError, match="crypto_store_url"):
        crypto_store_url("", "sqlite:///:memory:")


async def test_the_sync_token_and_device_survive_a_reopen(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path}/m.sqlite3"
    stores = await MatrixStores.open(url, "@bot:example.org", "pickle")
    from mautrix.crypto.account import OlmAccount  # needs the encryption extra (python-olm)

    await stores.crypto.put_account(OlmAccount())
    await stores.crypto.put_device_id("DEVICE")  # type: ignore[arg-type]
    await stores.crypto.put_next_batch("s42_token")  # type: ignore[arg-type]
    await stores.close()
    again = await MatrixStores.open(url, "@bot:example.org", "pickle")
    try:
        assert await again.crypto.get_next_batch() == "s42_token"
        assert await again.crypto.get_device_id() == "DEVICE"
        assert await again.crypto.get_account() is not None
    finally:
        await again.close()


async def test_the_crypto_store_and_its_journal_are_private_whatever_the_umask(
    tmp_path: Path,
) -> None:
    previous = os.umask(0o022)
    try:
        path = tmp_path / "keys" / "m.sqlite3"
        stores = await MatrixStores.open(f"sqlite:{path}", "@bot:example.org", "pickle")
        await stores.crypto.put_next_batch("s1_token")  # type: ignore[arg-type]
        await stores.close()
    finally:
        os.umask(previous)
    made = sorted(p for p in path.parent.iterdir())
    assert path in made
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in made} == {p.name: 0o600 for p in made}
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
