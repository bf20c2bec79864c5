"""An answer for the asker only stays in a room only if that room is the bot's DM with
them, on the real Synapse: a room of two that someone made (here unencrypted) is not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.answers.conversation import PRIVATE_POINTER
from bot.app import BotApp
from tests.e2e_matrix.apps import direct_message, matrix_only, new_user, started
from tests.e2e_matrix.conftest import SynapseServer

pytestmark = pytest.mark.e2e


@pytest.fixture
async def app(synapse: SynapseServer, bot_home: Path) -> AsyncIterator[BotApp]:
    running = await started(matrix_only(synapse, f"sqlite:///{bot_home / 'intra-bot.sqlite3'}"))
    try:
        yield running
    finally:
        await running.stop()


async def test_an_answer_for_the_asker_leaves_an_unencrypted_room_of_two_for_the_dm(
    synapse: SynapseServer, app: BotApp, tmp_path: Path
) -> None:
    asker = await new_user(synapse, tmp_path)
    try:
        # A room of two the person made, unencrypted: nothing said there is private.
        room = await asker.create_dm(synapse.bot_user_id, encrypted=False)
        await asker.wait_joined(room, synapse.bot_user_id)
        mark = asker.mark()
        await asker.send_text(room, "demandes")
        # A room of two is read as direct (no thread): the pointer is a plain message there.
        pointer = await asker.wait_for(
            "the pointer",
            lambda e: e.room_id == room and e.sender == synapse.bot_user_id and e.is_message,
            after=mark,
        )
        assert pointer.content["body"] == PRIVATE_POINTER.text
        private = await direct_message(
            asker,
            synapse.bot_user_id,
            "the private answer",
            lambda e: e.room_id != room and "demandes" in str(e.content.get("body")),
            after=mark,
        )
        assert private.encrypted and not private.undecryptable, private
        said = [
            e.content.get("body")
            for e in asker.seen[mark:]
            if e.room_id == room and e.sender == synapse.bot_user_id and e.is_message
        ]
        assert said == [PRIVATE_POINTER.text]  # the answer itself never came to this room
    finally:
        await asker.close()
