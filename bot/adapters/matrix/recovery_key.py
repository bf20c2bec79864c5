"""Where the cross-signing recovery key lives, and how it is written: never in the working
directory by default, always private.

`matrix.recovery_key_file` when set. Else, with a SQLite store, a directory of its own beside
the store's file, made 0700 (`/var/lib/intra-bot/intra-bot.sqlite3` ->
`/var/lib/intra-bot/intra-bot-secrets/matrix-recovery-key.txt`). A store that is not a file
(PostgreSQL, an in-memory SQLite) has no such place: the key must then be configured, and
`intra-bot run` and `intra-bot setup --platform matrix` refuse to start without it.

No mautrix here: the command line checks the path before anything connects.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

from bot.config import ConfigError, MatrixSettings
from bot.files import private_dir, private_dir_problem

log = logging.getLogger(__name__)

KEY_FILE_NAME = "matrix-recovery-key.txt"


def sqlite_file(store_url: str) -> Path | None:
    """The store's file for a `sqlite:///PATH` URL; None for any other store."""
    if not store_url.startswith("sqlite:///"):
        return None
    path = store_url.removeprefix("sqlite:///").split("?", 1)[0]
    if path in ("", ":memory:"):
        return None
    return Path(path).expanduser().resolve()


def secrets_dir(store_file: Path) -> Path:
    """The private directory beside a SQLite store: `<dir>/<stem>-secrets`."""
    return store_file.with_name(store_file.stem + "-secrets")


def recovery_key_path(settings: MatrixSettings, store_url: str) -> Path:
    """`matrix.recovery_key_file`, else in the secrets directory beside a SQLite store.

    Raises ConfigError (the operator's to fix, exit 2) for a store that is not a file.
    """
    if settings.recovery_key_file:
        return _checked(Path(settings.recovery_key_file).expanduser().resolve())
    store_file = sqlite_file(store_url)
    if store_file is None:
        raise ConfigError(
            "matrix.recovery_key_file (INTRA_BOT_MATRIX__RECOVERY_KEY_FILE) must be set: "
            "the store ([store] url) is not a SQLite file, so there is no private directory "
            "beside it for the cross-signing recovery key the bot writes at its first start. "
            "Set it to a file on a private, persistent volume shared by every replica, e.g. "
            "/var/lib/intra-bot/secrets/matrix-recovery-key.txt (an earlier version wrote "
            "./matrix-recovery-key.txt in the working directory: point it at that file if it "
            "exists)."
        )
    return _checked(secrets_dir(store_file) / KEY_FILE_NAME)


def _checked(key_file: Path) -> Path:
    """The key's path, once its directory is known to be the bot's alone (or not made yet)."""
    problem = private_dir_problem(key_file.parent)
    if problem is not None:
        raise ConfigError(
            f"matrix.recovery_key_file: {problem}; the recovery key goes only into a directory "
            "owned by the bot's user with mode 0700 (or one the bot creates itself)"
        )
    return key_file


def legacy_recovery_key_path(settings: MatrixSettings, store_url: str) -> Path | None:
    """Where versions before the secrets directory put the key beside a SQLite store."""
    store_file = sqlite_file(store_url)
    if settings.recovery_key_file or store_file is None:
        return None
    return store_file.with_name(store_file.stem + "-matrix-recovery-key.txt")


def adopt_legacy_key(settings: MatrixSettings, store_url: str, key_file: Path) -> bool:
    """Move a key an earlier version left beside the store into the secrets directory."""
    legacy = legacy_recovery_key_path(settings, store_url)
    if legacy is None or key_file.exists() or not legacy.is_file():
        return False
    private_dir(key_file.parent)
    os.replace(legacy, key_file)
    os.chmod(key_file, 0o600)
    log.warning("event=matrix_recovery_key_moved from=%s to=%s", legacy, key_file)
    return True


def write_secret(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by its owner only from the first byte.

    Through a new file of an unguessable name (O_EXCL: never one that exists, O_NOFOLLOW:
    never through a symlink), renamed over `path`, in a directory checked to be private."""
    private_dir(path.parent)
    problem = private_dir_problem(path.parent)
    if problem is not None:
        raise ConfigError(f"matrix.recovery_key_file: {problem}")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), 0o600)  # O_CREAT's mode is masked by the umask
            file.write(text + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
