"""How long the test servers live: a test session stops the servers it started.

`scripts/mattermost.sh` and `scripts/synapse.sh` start servers that outlive the process that
asked for them. Before its first `up`, a session takes a shared lock beside the server's run
dir (held until the session ends) and asks `status`: a server already running is someone
else's (an operator's, or another session's) and is left alone; one that is not is marked
`started-by-tests` in its run dir. When the session ends, it lets go of its lock and tries
the same lock exclusively: when no other session holds it and the mark is there, it runs
`down` and removes the mark. So two sessions sharing a server (two clones on one machine)
never stop it under each other's feet, and the last one out stops what a session started.

INTRA_BOT_KEEP_SERVERS=1 keeps the servers running (and marks nothing): the next session
then reuses them without a start.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[1]
KEEP_ENV = "INTRA_BOT_KEEP_SERVERS"
MARK = "started-by-tests"
DOWN_TIMEOUT_S = 120


@dataclass(frozen=True)
class ServerScript:
    name: str
    script: Path
    run_dir_env: str
    default_run_dir: str

    @property
    def run_dir(self) -> Path:
        return Path(os.environ.get(self.run_dir_env) or self.default_run_dir)

    def run(self, command: str, timeout: int = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(self.script), command],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


MATTERMOST = ServerScript(
    "mattermost", REPO_ROOT / "scripts" / "mattermost.sh", "INTRA_BOT_MM_RUN", "/tmp/intra-bot-mm"
)
SYNAPSE = ServerScript(
    "synapse",
    REPO_ROOT / "scripts" / "synapse.sh",
    "INTRA_BOT_SYNAPSE_RUN",
    "/tmp/intra-bot-synapse",
)


def keep_servers() -> bool:
    return os.environ.get(KEEP_ENV, "").strip().lower() not in ("", "0", "false", "no")


@dataclass
class Lease:
    """This session's hold on one server, from before its first `up` to the session's end."""

    server: ServerScript
    lock: IO[str]
    started_here: bool

    @property
    def mark(self) -> Path:
        return self.server.run_dir / MARK

    def release(self) -> str:
        """Let go; stop the server when this was the last session and a session started it.

        Returns what it did, for the session's last line.
        """
        try:
            fcntl.flock(self.lock, fcntl.LOCK_UN)
            if keep_servers():
                return f"{self.server.name}: kept running ({KEEP_ENV} is set)"
            try:
                fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return f"{self.server.name}: left running (another test session uses it)"
            if not self.mark.exists():
                return f"{self.server.name}: left running (it was running before the tests)"
            down = self.server.run("down", timeout=DOWN_TIMEOUT_S)
            if down.returncode != 0:
                return f"{self.server.name}: `down` failed (exit {down.returncode}): {down.stderr}"
            self.mark.unlink(missing_ok=True)
            return f"{self.server.name}: stopped (started by the tests)"
        finally:
            self.lock.close()


@dataclass
class Leases:
    held: dict[str, Lease] = field(default_factory=dict)

    def take(self, server: ServerScript) -> Lease:
        """Before a server's first `up` in this session: the shared lock, and whether it ran."""
        lease = self.held.get(server.name)
        if lease is not None:
            return lease
        lock_path = Path(f"{server.run_dir}.sessions")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = lock_path.open("a")
        fcntl.flock(lock, fcntl.LOCK_SH)  # waits while an ending session stops the server
        running = server.run("status").returncode == 0
        started_here = not running and not keep_servers()
        if started_here:
            server.run_dir.mkdir(parents=True, exist_ok=True)
            (server.run_dir / MARK).write_text(f"pid {os.getpid()}\n")
        lease = Lease(server, lock, started_here)
        self.held[server.name] = lease
        return lease

    def release_all(self) -> list[str]:
        said = [lease.release() for lease in self.held.values()]
        self.held.clear()
        return said


# One per test process: the session hooks in tests/conftest.py release them at its end.
LEASES = Leases()
