"""The Matrix crypto store on a real PostgreSQL (the replicas' store), beside the bot's tables.

PostgreSQL comes from scripts/mattermost.sh (its throw-away cluster and test database).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.answers.conversation import Conversation
from bot.config import ConfigError
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.schema import values
from bot.store import Store
from tests.e2e_matrix.bot_runner import RunningBot
from tests.e2e_matrix.conftest import SynapseServer, bot_settings
from tests.e2e_matrix.nio_user import NioUser
from tests.mattermost_server import start_mattermost

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pg_dsn() -> str:
    dsn = start_mattermost().pg_dsn
    assert dsn, "scripts/mattermost.sh env gave no INTRA_BOT_TEST_PG_DSN"
    return dsn


def forget_matrix_state(store: Store) -> None:
    """A fresh start: the synapse fixture deleted the bot's devices, so its old session is void."""
    with store.engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND (table_name LIKE 'crypto\\_%' OR table_name LIKE 'mx\\_%')"
            )
        ).scalars()
        for table in list(tables):
            connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
        connection.execute(text("DROP TYPE IF EXISTS membership"))  # the state cache's enum
        connection.execute(values.delete().where(values.c.name.like("matrix.%")))


@pytest.fixture
async def pg_bot(synapse: SynapseServer, pg_dsn: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    store = Store.open(pg_dsn)
    assert store.engine.dialect.name == "postgresql"
    forget_matrix_state(store)
    # A PostgreSQL store has no directory beside it: the recovery key's file is configured.
    settings = bot_settings(synapse, recovery_key_file=str(tmp_path / "matrix-recovery-key.txt"))
    running = RunningBot(settings, store, pg_dsn, Conversation(ContentSource(DEFAULT_CONTENT_DIR)))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        store.close()


def test_a_bot_on_postgresql_without_a_recovery_key_file_does_not_start(
    synapse: SynapseServer, pg_dsn: str
) -> None:
    store = Store.open(pg_dsn)
    try:
        with pytest.raises(ConfigError, match=r"INTRA_BOT_MATRIX__RECOVERY_KEY_FILE"):
            RunningBot(
                bot_settings(synapse),
                store,
                pg_dsn,
                Conversation(ContentSource(DEFAULT_CONTENT_DIR)),
            )
    finally:
        store.close()


async def test_encrypted_dms_work_across_a_restart_with_keys_in_postgresql(
    synapse: SynapseServer, pg_bot: RunningBot, alice: NioUser, pg_dsn: str
) -> None:
    room = await alice.create_dm(synapse.bot_user_id, encrypted=True)
    await alice.wait_joined(room, synapse.bot_user_id)
    for question in ("aide", "club"):
        mark = alice.mark()
        await alice.send_text(room, question)
        reply = await alice.wait_for(
            f"the answer to « {question} »",
            lambda e: e.room_id == room and e.sender == synapse.bot_user_id and e.is_message,
            after=mark,
        )
        assert reply.encrypted and not reply.undecryptable, reply
        await pg_bot.restart()
    store = Store.open(pg_dsn)
    try:
        with store.engine.connect() as connection:
            token = connection.execute(
                text("SELECT sync_token FROM crypto_account WHERE account_id = :a"),
                {"a": synapse.bot_user_id},
            ).scalar_one()
    finally:
        store.close()
    assert token, "the sync token lives beside the keys in PostgreSQL"
