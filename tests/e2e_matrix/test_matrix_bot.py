"""The Matrix adapter against a real Synapse, its users on an independent client (matrix-nio)."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from bot.chat import Reply
from tests.e2e_matrix.bot_runner import RunningBot
from tests.e2e_matrix.conftest import SynapseServer
from tests.e2e_matrix.nio_user import NioUser
from tests.servers import SYNAPSE

pytestmark = pytest.mark.e2e


async def test_help_in_the_public_room_is_a_threaded_notice(
    synapse: SynapseServer, bot: RunningBot, alice: NioUser
) -> None:
    mark = alice.mark()
    question = await alice.send_text(synapse.public_room_id, "!intra aide")
    reply = await alice.reply_to(question, after=mark)
    assert reply.sender == synapse.bot_user_id
    assert reply.content["msgtype"] == "m.notice"
    assert reply.thread_root == question
    assert reply.content["m.relates_to"]["rel_type"] == "m.thread"
    assert reply.content["m.mentions"] == {}
    assert "<strong>" in reply.content["formatted_body"]  # Markdown rendered as HTML
    # The help in Tchap's words: `!intra` (`/intra` is a client command there), the private room.
    body = reply.content["body"]
    assert "`!intra certification`" in body and "`/intra" not in body, body
    assert f"canal privé {synapse.private_room_id}" in body, body


async def test_a_room_message_not_for_the_bot_gets_no_answer(
    synapse: SynapseServer, bot: RunningBot, alice: NioUser
) -> None:
    mark = alice.mark()
    chatter = await alice.send_text(
        synapse.public_room_id, f"quelqu'un a vu {secrets.token_hex(3)} ?"
    )
    # The bot handles a room's events in order: once the next question is answered,
    # an answer to the chatter would already be there.
    question = await alice.send_text(synapse.public_room_id, "!intra aide")
    await alice.reply_to(question, after=mark)
    assert not [e for e in alice.seen[mark:] if e.reply_to == chatter or e.thread_root == chatter]


async def test_an_encrypted_dm_is_answered_and_the_answer_decrypts(
    synapse: SynapseServer, bot: RunningBot, alice: NioUser
) -> None:
    room = await alice.create_dm(synapse.bot_user_id, encrypted=True)
    await alice.wait_joined(room, synapse.bot_user_id)
    mark = alice.mark()
    question = await alice.send_text(room, "aide")
    reply = await alice.wait_for(
        "the bot's encrypted answer",
        lambda e: e.room_id == room and e.sender == synapse.bot_user_id and e.is_message,
        after=mark,
    )
    assert reply.encrypted and not reply.undecryptable, reply
    assert reply.content["msgtype"] == "m.notice"
    assert reply.content["body"].strip()
    assert bot.adapter.router is not None and bot.adapter.router.undecryptable == 0
    assert question


async def test_after_a_bot_restart_an_encrypted_dm_is_still_answered(
    synapse: SynapseServer, bot: RunningBot, alice: NioUser
) -> None:
    room = await alice.create_dm(synapse.bot_user_id, encrypted=True)
    await alice.wait_joined(room, synapse.bot_user_id)
    mark = alice.mark()
    await alice.send_text(room, "aide")
    await alice.wait_for(
        "an answer before the restart",
        lambda e: e.room_id == room and e.sender == synapse.bot_user_id and e.is_message,
        after=mark,
    )
    assert bot.adapter.client is not None
    device = bot.adapter.client.device_id
    await bot.restart()
    # the same device from the stored session (no new login), the sync from its stored token
    assert bot.adapter.client is not None and bot.adapter.client.device_id == device
    assert bot.adapter.sync is not None and bot.adapter.sync.status.resumed
    mark = alice.mark()
    await alice.send_text(room, "référents")  # same Megolm session: the bot kept its key
    reply = await alice.wait_for(
        "an answer after the restart",
        lambda e: e.room_id == room and e.sender == synapse.bot_user_id and e.is_message,
        after=mark,
    )
    assert reply.encrypted and not reply.undecryptable, reply
    assert "référent" in reply.content["body"].lower()


async def test_a_synapse_restart_loses_and_doubles_nothing(
    synapse: SynapseServer, bot: RunningBot, alice: NioUser
) -> None:
    mark = alice.mark()
    before = await alice.send_text(synapse.public_room_id, "!intra aide")
    restart = await asyncio.to_thread(SYNAPSE.run, "restart", timeout=300)
    assert restart.returncode == 0, restart.stderr
    during = await alice.send_text(synapse.public_room_id, "!intra club")
    after = await alice.send_text(synapse.public_room_id, "!intra référents")
    for question in (before, during, after):
        await alice.reply_to(question, after=mark, timeout=120)
    # A sentinel last: the bot answers a room in order, so a double would come before it.
    sentinel = await alice.send_text(synapse.public_room_id, "!intra aide")
    await alice.reply_to(sentinel, after=mark)
    answers = [e for e in alice.seen[mark:] if e.sender == synapse.bot_user_id]
    counts = {q: sum(1 for e in answers if e.reply_to == q) for q in (before, during, after)}
    assert counts == {before: 1, during: 1, after: 1}


async def test_a_mention_is_answered_in_its_thread(
    synapse: SynapseServer, bot: RunningBot, alice: NioUser
) -> None:
    mark = alice.mark()
    question = await alice.send_text(
        synapse.public_room_id,
        "intra-bot: qui sont les référents ?",
        **{"m.mentions": {"user_ids": [synapse.bot_user_id]}},
    )
    reply = await alice.reply_to(question, after=mark)
    assert reply.thread_root == question
    assert "référent" in reply.content["body"].lower()


async def test_a_command_in_the_encrypted_private_room_gets_an_encrypted_threaded_answer(
    synapse: SynapseServer, bot: RunningBot, marine: NioUser
) -> None:
    mark = marine.mark()
    question = await marine.send_text(synapse.private_room_id, "!intra référents")
    reply = await marine.reply_to(question, after=mark)
    assert reply.sender == synapse.bot_user_id
    assert reply.encrypted and not reply.undecryptable, reply
    assert reply.thread_root == question
    assert "référent" in reply.content["body"].lower()


async def test_questions_asked_while_the_bot_was_down_are_all_answered_once(
    synapse: SynapseServer, bot: RunningBot, alice: NioUser
) -> None:
    await bot.stop()
    mark = alice.mark()
    # More questions than one sync window holds (limit 2 below): the rest must be fetched back.
    questions = [await alice.send_text(synapse.public_room_id, "!intra aide") for _ in range(5)]
    await bot.restart(timeline_limit=2)
    for question in questions:
        await alice.reply_to(question, after=mark)
    sentinel = await alice.send_text(synapse.public_room_id, "!intra aide")
    await alice.reply_to(sentinel, after=mark)
    answers = [e for e in alice.seen[mark:] if e.sender == synapse.bot_user_id]
    assert sorted(sum(1 for e in answers if e.reply_to == q) for q in questions) == [1] * 5
    assert bot.adapter.sync is not None and bot.adapter.sync.status.gaps >= 1


async def test_the_bot_writes_to_someone_in_an_encrypted_dm_made_once(
    synapse: SynapseServer, bot: RunningBot, bruno: NioUser
) -> None:
    platform = bot.adapter.platform
    assert platform is not None
    mark = bruno.mark()
    _, first = await platform.send_direct(
        bruno.user_id, Reply(text="**Bienvenue** chez les intras")
    )
    room = await bruno.accept_invite_from(synapse.bot_user_id)
    seen = await bruno.wait_for("the bot's DM", lambda e: e.event_id == first, after=mark)
    # sent before bruno joined: the room key reached his device while he was invited
    assert seen.encrypted and not seen.undecryptable, seen
    assert "<strong>Bienvenue</strong>" in seen.content["formatted_body"]
    _, second = await platform.send_direct(bruno.user_id, Reply(text="Et encore un mot"))
    again = await bruno.wait_for("the second DM", lambda e: e.event_id == second, after=mark)
    assert again.room_id == room  # the same DM room, remembered
    assert not again.undecryptable
