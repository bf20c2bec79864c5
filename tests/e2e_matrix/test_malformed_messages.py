"""A malformed encrypted message, sent by a real E2EE client through the real Synapse: one
WARNING line with its event id, no traceback, no answer, not counted as undecryptable."""

from __future__ import annotations

import logging

import pytest

from tests.e2e_matrix.bot_runner import RunningBot
from tests.e2e_matrix.conftest import SynapseServer
from tests.e2e_matrix.nio_user import NioUser

pytestmark = pytest.mark.e2e


async def test_a_message_whose_msgtype_is_a_list_is_one_warning_line(
    synapse: SynapseServer, bot: RunningBot, alice: NioUser, caplog: pytest.LogCaptureFixture
) -> None:
    room = await alice.create_dm(synapse.bot_user_id, encrypted=True)
    await alice.wait_joined(room, synapse.bot_user_id)
    mark = alice.mark()
    with caplog.at_level(logging.INFO):
        bad = await alice.send_text(room, "aide", msgtype=["m.text"])
        # The room's events are handled in order: once this one is answered, the bad one was.
        await alice.send_text(room, "aide")
        await alice.wait_for(
            "the answer to the well-formed question",
            lambda e: e.room_id == room and e.sender == synapse.bot_user_id and e.is_message,
            after=mark,
        )
    answers = [e for e in alice.seen[mark:] if e.room_id == room and e.sender == synapse.bot_user_id and e.is_message]  # fmt: skip
    assert len(answers) == 1
    lines = [r for r in caplog.records if bad in r.getMessage()]
    assert [(r.levelno, r.exc_info) for r in lines] == [(logging.WARNING, None)], caplog.text
    assert lines[0].getMessage().startswith("event=matrix_unsupported_content")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert bot.adapter.router is not None and bot.adapter.router.undecryptable == 0
