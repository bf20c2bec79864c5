"""Where the Matrix recovery key goes: configured, or a private directory beside a SQLite
store; never the working directory; a store that is not a file must configure it."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.matrix.recovery_key import (
    adopt_legacy_key,
    recovery_key_path,
    write_secret,
)
from bot.cli import main
from bot.config import ConfigError, MatrixSettings

PG_URL = "postgresql://bot:pw@127.0.0.1:9/intrabot"  # port 9: nothing may connect to it


def matrix(**values: str) -> MatrixSettings:
    return MatrixSettings.model_validate(
        {
            "homeserver": "http://127.0.0.1:9",
            "user_id": "@bot:example.org",
            "pickle_key": "k" * 32,
            **values,
        }
    )


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory of its own, to see that nothing lands in it."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """The most permissive umask: the modes must not come from it."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_configured_file_wins_whatever_the_store(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "recovery.txt"
    settings = matrix(recovery_key_file=str(key))
    assert recovery_key_path(settings, PG_URL) == key
    assert recovery_key_path(settings, f"sqlite:///{tmp_path / 'store.sqlite3'}") == key


def test_the_configured_file_expands_the_home_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/srv/bot-home")
    settings = matrix(recovery_key_file="~/secrets/key.txt")
    assert recovery_key_path(settings, PG_URL) == Path("/srv/bot-home/secrets/key.txt")


def test_beside_a_sqlite_store_in_a_secrets_directory_of_its_own(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'intra-bot.sqlite3'}"
    assert recovery_key_path(matrix(), url) == (
        tmp_path / "data" / "intra-bot-secrets" / "matrix-recovery-key.txt"
    )


def test_a_relative_sqlite_store_puts_the_key_beside_it_not_loose_in_the_working_directory(
    elsewhere: Path,
) -> None:
    path = recovery_key_path(matrix(), "sqlite:///var/bot.sqlite3")
    assert path == elsewhere / "var" / "bot-secrets" / "matrix-recovery-key.txt"
    default_store = recovery_key_path(matrix(), "sqlite:///intra-bot.sqlite3")
    assert default_store.parent == elsewhere / "intra-bot-secrets"
    assert default_store.parent != elsewhere


@pytest.mark.parametrize(
    "store_url",
    [
        PG_URL,
        "postgresql+psycopg://bot:pw@db/intrabot",
        "sqlite:///:memory:",
        "sqlite:///",
        "sqlite://",
    ],
)
def test_a_store_that_is_not_a_file_must_configure_the_key(store_url: str) -> None:
    with pytest.raises(ConfigError) as error:
        recovery_key_path(matrix(), store_url)
    message = str(error.value)
    assert message.startswith("matrix.recovery_key_file (INTRA_BOT_MATRIX__RECOVERY_KEY_FILE)")
    assert "must be set" in message
    assert "pw" not in message  # the store's password is not repeated


def test_the_secret_is_written_0600_in_a_directory_made_0700(
    tmp_path: Path, umask_zero: None
) -> None:
    key = tmp_path / "store-secrets" / "matrix-recovery-key.txt"
    write_secret(key, "EsTc abcd")
    assert key.read_text(encoding="utf-8") == "EsTc abcd\n"
    assert mode(key) == 0o600
    assert mode(key.parent) == 0o700
    assert [p.name for p in key.parent.iterdir()] == [key.name]  # no temporary file left


def test_a_directory_open_to_others_is_refused_and_left_as_it_is(
    tmp_path: Path, umask_zero: None
) -> None:
    shared = tmp_path / "secrets"
    shared.mkdir(mode=0o750)
    shared.chmod(0o750)
    with pytest.raises(ConfigError, match=r"is open to others \(mode 750\): chmod 700"):
        write_secret(shared / "key.txt", "EsTc")
    with pytest.raises(ConfigError, match="is open to others"):
        recovery_key_path(matrix(recovery_key_file=str(shared / "key.txt")), PG_URL)
    assert mode(shared) == 0o750
    assert list(shared.iterdir()) == []


def test_a_directory_of_another_user_or_a_symlink_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    owner = theirs.stat().st_uid
    # Seen from another user (no chown needed: the clean room does not run as root).
    monkeypatch.setattr("bot.files.os.geteuid", lambda: owner + 1)
    with pytest.raises(ConfigError, match=f"belongs to user id {owner}, not to the bot's"):
        recovery_key_path(matrix(recovery_key_file=str(theirs / "key.txt")), PG_URL)
    monkeypatch.undo()
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(ConfigError, match="is not a directory"):
        write_secret(tmp_path / "link" / "key.txt", "EsTc")
    assert list(real.iterdir()) == []


def test_a_symlink_planted_where_the_temporary_file_went_is_never_followed(
    tmp_path: Path,
) -> None:
    secrets_dir = tmp_path / "store-secrets"
    secrets_dir.mkdir(mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched\n", encoding="utf-8")
    # The name the earlier version always used for its temporary file.
    (secrets_dir / "matrix-recovery-key.txt.tmp").symlink_to(victim)
    write_secret(secrets_dir / "matrix-recovery-key.txt", "EsTc abcd")
    assert victim.read_text(encoding="utf-8") == "untouched\n"
    assert (secrets_dir / "matrix-recovery-key.txt").read_text(encoding="utf-8") == "EsTc abcd\n"


def test_a_key_left_beside_the_store_by_an_earlier_version_is_moved_into_the_secrets_dir(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, umask_zero: None
) -> None:
    url = f"sqlite:///{tmp_path / 'intra-bot.sqlite3'}"
    legacy = tmp_path / "intra-bot-matrix-recovery-key.txt"
    legacy.write_text("EsTc old key\n", encoding="utf-8")
    key = recovery_key_path(matrix(), url)
    with caplog.at_level(logging.WARNING):
        assert adopt_legacy_key(matrix(), url, key) is True
    assert not legacy.exists()
    assert key.read_text(encoding="utf-8") == "EsTc old key\n"
    assert mode(key) == 0o600 and mode(key.parent) == 0o700
    assert "event=matrix_recovery_key_moved" in caplog.text
    assert "old key" not in caplog.text
    assert adopt_legacy_key(matrix(), url, key) is False  # once


def test_no_legacy_move_over_an_existing_key_or_a_configured_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'intra-bot.sqlite3'}"
    legacy = tmp_path / "intra-bot-matrix-recovery-key.txt"
    legacy.write_text("old\n", encoding="utf-8")
    key = recovery_key_path(matrix(), url)
    write_secret(key, "new")
    assert adopt_legacy_key(matrix(), url, key) is False
    assert key.read_text(encoding="utf-8") == "new\n" and legacy.exists()
    configured = matrix(recovery_key_file=str(tmp_path / "k.txt"))
    assert adopt_legacy_key(configured, url, tmp_path / "k.txt") is False
    assert not (tmp_path / "k.txt").exists()


def config_file(tmp_path: Path, store_url: str, **matrix_values: str) -> Path:
    config = tmp_path / "config.toml"
    lines = ["[store]", f'url = "{store_url}"', "[http]", "port = 0", "[matrix]"]
    lines += ['homeserver = "http://127.0.0.1:9"', 'user_id = "@bot:example.org"']
    lines += [f'pickle_key = "{"k" * 32}"']
    lines += [f'{key} = "{value}"' for key, value in matrix_values.items()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@pytest.mark.parametrize("command", [["run"], ["setup", "--platform", "matrix"]])
def test_run_and_setup_refuse_a_postgresql_store_without_the_key_file(
    tmp_path: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    status = main([*command, "--config", str(config_file(tmp_path, PG_URL))])
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    assert "Configuration error:" in err
    assert "matrix.recovery_key_file (INTRA_BOT_MATRIX__RECOVERY_KEY_FILE) must be set" in err
    assert "Cannot open the store" not in err + out  # said before anything connects
    assert list(elsewhere.iterdir()) == []
