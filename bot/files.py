"""Files the bot creates hold secrets or personal data: private from their first byte,
whatever the process's umask (0600 files, 0700 directories). What exists already is the
operator's and keeps its mode."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


def private_dir(path: Path) -> None:
    """Create `path` (and its missing parents) if it is missing: the directory itself 0700."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:  # another replica made it in between
        return
    os.chmod(path, 0o700)  # mkdir's mode is masked by the umask


def private_file(path: Path) -> None:
    """Create `path` empty and 0600 if it is missing (a SQLite database before SQLite opens
    it: SQLite then gives its -wal and -shm files the database's own mode)."""
    if not path.parent.is_dir():
        private_dir(path.parent)
    with contextlib.suppress(FileExistsError):  # there already, or another replica's
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.fchmod(fd, 0o600)  # O_CREAT's mode is masked by the umask too
        os.close(fd)


def private_dir_problem(path: Path) -> str | None:
    """Why `path` is not a directory only this process's user can enter (None: it is).

    A secret written into a directory others can write to can be swapped or read (a
    symlink planted where the file goes, a group that lists it): refuse rather than hope."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None  # made private when the secret is written
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        return f"{path} is not a directory (a symlink or a file)"
    if info.st_uid != os.geteuid():
        return f"{path} belongs to user id {info.st_uid}, not to the bot's ({os.geteuid()})"
    if info.st_mode & 0o077:
        return f"{path} is open to others (mode {stat.S_IMODE(info.st_mode):o}): chmod 700 {path}"
    return None
