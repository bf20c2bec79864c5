"""End-to-end fixtures: a real Mattermost server started by scripts/mattermost.sh.

The session-scoped ``mattermost`` fixture starts it (see `tests/mattermost_server.py`) and
returns the values of ``scripts/mattermost.sh env``. The `e2e` marker is declared once,
in pyproject.toml.
"""

from __future__ import annotations

import pytest

from tests.mattermost_server import MattermostServer, retire_leftover_users, start_mattermost


@pytest.fixture(scope="session")
def mattermost() -> MattermostServer:
    """The running, bootstrapped Mattermost server (started once per session), with the
    users earlier sessions made deactivated: a reused server starts like a fresh one."""
    server = start_mattermost()
    retire_leftover_users(server)
    return server
