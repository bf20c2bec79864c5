"""Integration fixtures: real stores (a SQLite file, the real PostgreSQL) and test prefixes.

PostgreSQL is the one `scripts/mattermost.sh` runs (its `intrabot_test` database), found
through INTRA_BOT_TEST_PG_DSN or by starting the script. When it cannot be reached the
PostgreSQL tests FAIL: they never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from bot.schema import reminder_posts
from bot.store import Store, StoreError
from tests.integration.harness import unique_prefix


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    dsn = os.environ.get("INTRA_BOT_TEST_PG_DSN")
    if not dsn:
        from tests.mattermost_server import start_mattermost

        dsn = start_mattermost().pg_dsn
    if not dsn:
        pytest.fail(
            "no PostgreSQL for the store tests: scripts/mattermost.sh env gave no INTRA_BOT_TEST_PG_DSN",
            pytrace=False,
        )
    try:
        Store.open(dsn).close()
    except StoreError as error:
        pytest.fail(f"PostgreSQL unreachable for the store tests: {error}", pytrace=False)
    return dsn


@pytest.fixture
def prefix() -> str:
    """A prefix for this test's reminder ids, hence for its keys in a shared store."""
    return unique_prefix()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path, prefix: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    dsn: str = request.getfixturevalue("pg_dsn")
    yield dsn
    store = Store.open(dsn)
    try:
        with store.engine.begin() as connection:
            connection.execute(
                delete(reminder_posts).where(reminder_posts.c.key.startswith(prefix))
            )
    finally:
        store.close()
