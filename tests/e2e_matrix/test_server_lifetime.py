"""The real scripts/synapse.sh under a test session's lease, on a run dir and port of its own:
the last session out stops the server a session started, and `reset` leaves nothing of it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.servers import KEEP_ENV, MARK, SYNAPSE, Leases

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_session_that_started_synapse_stops_it_and_reset_empties_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "synapse-run"
    monkeypatch.setenv("INTRA_BOT_SYNAPSE_RUN", str(run_dir))
    monkeypatch.setenv("INTRA_BOT_SYNAPSE_PORT", str(free_port()))
    monkeypatch.delenv(KEEP_ENV, raising=False)
    try:
        first = Leases().take(SYNAPSE)
        assert first.started_here
        up = SYNAPSE.run("up", timeout=600)
        assert up.returncode == 0, up.stderr
        second = Leases().take(SYNAPSE)  # a second session finds it running
        assert not second.started_here
        assert "another test session uses it" in first.release()
        assert SYNAPSE.run("status").returncode == 0
        assert second.release() == "synapse: stopped (started by the tests)"
        status = SYNAPSE.run("status")
        assert status.returncode == 1 and "synapse: stopped" in status.stdout
        assert not (run_dir / MARK).exists()
        assert (run_dir / "homeserver.db").exists()  # `down` keeps the data

        reset = SYNAPSE.run("reset")
        assert reset.returncode == 0, reset.stderr
        assert not run_dir.exists()
    finally:
        SYNAPSE.run("reset")
