"""A test session stops the test servers it started, and only those (tests/servers.py).

Against a stand-in for scripts/mattermost.sh and scripts/synapse.sh: a script that keeps
"running" as a file in its run dir and logs each `down`. Two `Leases` play two test
sessions on one machine (each holds its own lock, as two processes would).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.servers import KEEP_ENV, MARK, Leases, ServerScript

FAKE = """#!/usr/bin/env bash
set -euo pipefail
RUN_DIR="${FAKE_RUN:-/nonexistent}"
case "$1" in
    status) [ -e "$RUN_DIR/running" ] ;;
    up) mkdir -p "$RUN_DIR"; touch "$RUN_DIR/running" ;;
    down) rm -f "$RUN_DIR/running" "$RUN_DIR/started-by-tests"; echo down >>"$RUN_DIR/../calls" ;;
esac
"""


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServerScript:
    script = tmp_path / "server.sh"
    script.write_text(FAKE)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("FAKE_RUN", str(tmp_path / "run"))
    monkeypatch.delenv(KEEP_ENV, raising=False)
    return ServerScript("fake", script, "FAKE_RUN", "/nonexistent")


def downs(server: ServerScript) -> int:
    calls = server.run_dir.parent / "calls"
    return calls.read_text().count("down") if calls.exists() else 0


def running(server: ServerScript) -> bool:
    return server.run("status").returncode == 0


def test_a_server_the_session_started_is_stopped_at_its_end(server: ServerScript) -> None:
    lease = Leases().take(server)
    assert lease.started_here and (server.run_dir / MARK).exists()
    server.run("up")
    assert lease.release() == "fake: stopped (started by the tests)"
    assert not running(server) and downs(server) == 1
    assert not (server.run_dir / MARK).exists()


def test_a_server_found_running_is_left_running(server: ServerScript) -> None:
    server.run("up")  # an operator's, or an earlier run's with INTRA_BOT_KEEP_SERVERS
    lease = Leases().take(server)
    assert not lease.started_here and not (server.run_dir / MARK).exists()
    assert lease.release() == "fake: left running (it was running before the tests)"
    assert running(server) and downs(server) == 0


def test_the_last_of_two_sessions_stops_what_the_first_started(server: ServerScript) -> None:
    first = Leases().take(server)
    server.run("up")
    second = Leases().take(server)  # another clone's session, while the first runs
    assert first.started_here and not second.started_here
    assert first.release() == "fake: left running (another test session uses it)"
    assert running(server), "stopped under the feet of the second session"
    assert second.release() == "fake: stopped (started by the tests)"
    assert not running(server) and downs(server) == 1


def test_keep_servers_keeps_them_and_marks_nothing(
    server: ServerScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEEP_ENV, "1")
    lease = Leases().take(server)
    server.run("up")
    assert not lease.started_here and not (server.run_dir / MARK).exists()
    assert lease.release() == f"fake: kept running ({KEEP_ENV} is set)"
    assert running(server) and downs(server) == 0


def test_one_lease_per_server_per_session(server: ServerScript) -> None:
    leases = Leases()
    first = leases.take(server)
    server.run("up")
    assert leases.take(server) is first  # a second `up` in the session: still its server
    assert leases.release_all() == ["fake: stopped (started by the tests)"]
    assert leases.release_all() == []


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_keep_servers_off_values(
    server: ServerScript, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(KEEP_ENV, value)
    lease = Leases().take(server)
    assert lease.started_here
    lease.release()


def test_the_run_dirs_are_the_scripts_own() -> None:
    from tests.servers import MATTERMOST, SYNAPSE

    for known in (MATTERMOST, SYNAPSE):
        text = known.script.read_text()
        assert f'RUN_DIR="${{{known.run_dir_env}:-{known.default_run_dir}}}"' in text
        assert f'rm -f "$RUN_DIR/{MARK}"' in text  # `down` forgets the mark
    assert os.access(MATTERMOST.script, os.X_OK) and os.access(SYNAPSE.script, os.X_OK)
