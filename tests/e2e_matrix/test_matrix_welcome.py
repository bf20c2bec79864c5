"""The welcome, private replies and hostile display names, on the real Synapse.

The bot is a whole `BotApp` (Matrix only: greeter, outbox, services), on the session's
bot store and device; the people are independent E2EE clients (matrix-nio).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nio import RoomLeaveResponse

from bot.adapters.matrix.platform import KEY_FIELD
from bot.answers.conversation import PRIVATE_POINTER
from bot.app import BotApp
from bot.chat import Reply
from tests.e2e_matrix.apps import direct_message, matrix_only, new_user, started
from tests.e2e_matrix.conftest import SynapseServer
from tests.e2e_matrix.nio_user import NioUser, Seen

pytestmark = pytest.mark.e2e

HOSTILE = "@room <img src=x> [clic](javascript:alert(1)) <a href='https://evil.example'>x</a>"


@pytest.fixture
async def app(synapse: SynapseServer, bot_home: Path) -> AsyncIterator[BotApp]:
    running = await started(matrix_only(synapse, f"sqlite:///{bot_home / 'intra-bot.sqlite3'}"))
    try:
        yield running
    finally:
        await running.stop()


def from_bot(synapse: SynapseServer, room: str) -> object:
    return lambda e: e.room_id == room and e.sender == synapse.bot_user_id and e.is_message


def harmless(event: Seen) -> None:
    """Nothing in a bot's event pings anyone or renders markup a user wrote."""
    content = event.content
    assert content["m.mentions"] == {}, content
    html = content.get("formatted_body", "")
    for fired in ("<img", "javascript:", "evil.example'", 'href="https://evil'):
        assert fired not in html, (fired, html)
    assert "@room" not in content["body"] and "@room" not in html, content


async def test_a_newcomer_is_welcomed_once_by_encrypted_dm_also_across_a_restart(
    synapse: SynapseServer, bot_home: Path, tmp_path: Path
) -> None:
    settings = matrix_only(synapse, f"sqlite:///{bot_home / 'intra-bot.sqlite3'}")
    app = await started(settings)
    newcomer = await new_user(synapse, tmp_path)
    try:
        await newcomer.client.join(synapse.public_room_id)
        dm = await newcomer.accept_invite_from(synapse.bot_user_id)

        def from_dm(e: Seen) -> bool:
            return e.room_id == dm and e.sender == synapse.bot_user_id and e.is_message

        welcome = await newcomer.wait_for("the welcome", from_dm)
        assert welcome.encrypted and not welcome.undecryptable, welcome
        assert "Bienvenue" in welcome.content["body"]
        # In Tchap's words: its command word and the room joined, no Mattermost channel.
        body = welcome.content["body"]
        assert f"Bienvenue dans {synapse.public_room_alias} !" in body, body
        assert "`!intra aide`" in body and "`/intra" not in body and "~domaine" not in body
        assert welcome.content["m.mentions"] == {}

        await app.stop()
        app = await started(settings)
        # Leaving and joining again is not a second arrival.
        left = await newcomer.client.room_leave(synapse.public_room_id)
        assert isinstance(left, RoomLeaveResponse), left
        await newcomer.client.join(synapse.public_room_id)
        mark = newcomer.mark()
        question = await newcomer.send_text(synapse.public_room_id, "!intra aide")
        await newcomer.reply_to(question, after=mark)  # the bot has handled the rejoin
        await newcomer.send_text(dm, "aide")
        await newcomer.wait_for(  # the DM answered: nothing else is on its way
            "the DM's answer",
            lambda e: from_dm(e) and "Bienvenue" not in str(e.content.get("body")),
            after=mark,
        )
        welcomes = [
            e
            for e in newcomer.seen
            if e.room_id == dm
            and e.sender == synapse.bot_user_id
            and "Bienvenue" in str(e.content.get("body"))
        ]
        assert len(welcomes) == 1, welcomes
        assert not newcomer.client.invited_rooms  # no second DM room either
    finally:
        await newcomer.close()
        await app.stop()


async def test_a_private_answer_goes_by_dm_and_the_room_sees_only_the_pointer(
    synapse: SynapseServer, app: BotApp, tmp_path: Path
) -> None:
    # Someone new: the bot's DMs with the fixtures' users belong to other tests.
    asker = await new_user(synapse, tmp_path)
    try:
        await asker.client.join(synapse.public_room_id)
        await asker.wait_joined(synapse.public_room_id, asker.user_id)
        mark = asker.mark()
        # The list of requests is for referents only: whatever it says, it is for the asker.
        question = await asker.send_text(synapse.public_room_id, "!intra demandes")
        pointer = await asker.reply_to(question, after=mark)
        assert pointer.room_id == synapse.public_room_id
        assert pointer.content["body"] == PRIVATE_POINTER.text
        assert pointer.thread_root == question
        private = await direct_message(
            asker,
            synapse.bot_user_id,
            "the private answer",
            lambda e: (
                e.room_id != synapse.public_room_id and "demandes" in str(e.content.get("body"))
            ),
            after=mark,
        )
        assert private.encrypted and not private.undecryptable, private
        in_room = [
            e
            for e in asker.seen[mark:]
            if e.room_id == synapse.public_room_id and e.sender == synapse.bot_user_id
        ]
        assert [e.content["body"] for e in in_room] == [PRIVATE_POINTER.text]
    finally:
        await asker.close()


async def test_a_hostile_display_name_fires_nothing_and_renders_no_markup(
    synapse: SynapseServer, app: BotApp, alice: NioUser, tmp_path: Path
) -> None:
    mallory = await new_user(synapse, tmp_path, display_name=HOSTILE)
    try:
        await mallory.client.join(synapse.public_room_id)
        dm = await mallory.accept_invite_from(synapse.bot_user_id)
        welcome = await mallory.wait_for("the welcome", from_bot(synapse, dm))  # type: ignore[arg-type]
        mark = mallory.mark()
        alice_mark = alice.mark()
        questions = [
            await mallory.send_text(synapse.public_room_id, text)
            for text in ("!intra aide", "!intra rejoindre bonjour @room", "!intra demandes")
        ]
        replies = [await mallory.reply_to(q, after=mark) for q in questions]
        seen_by_alice = [await alice.reply_to(q, after=alice_mark) for q in questions]
        for event in [welcome, *replies, *seen_by_alice]:
            harmless(event)
        private = [
            e for e in mallory.seen[mark:] if e.room_id == dm and e.sender == synapse.bot_user_id
        ]
        for event in private:
            harmless(event)
    finally:
        await mallory.close()


async def test_a_retried_keyed_dm_is_found_in_the_encrypted_room_not_sent_again(
    synapse: SynapseServer, app: BotApp, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.adapters.matrix.platform")
    person = await new_user(synapse, tmp_path)
    assert app.matrix is not None
    platform = app.matrix.platform
    key = f"notice:{person.user_id}"
    try:
        room, first = await platform.send_direct(person.user_id, Reply("Votre demande"), key=key)
        # The outbox's retry after a crash that lost the event id: the bot reads its own
        # encrypted history back, finds the key, and does not post again.
        assert await platform.send_direct(
            person.user_id, Reply("Votre demande"), key=key, retry=True
        ) == (room, first)
        # Found by reading (the same transaction id would also have given the same event).
        assert f"event=outbox_already_sent key={key} event_id={first}" in caplog.text
        await person.accept_invite_from(synapse.bot_user_id)
        seen = await person.wait_for("the DM", lambda e: e.event_id == first)
        assert seen.encrypted and not seen.undecryptable, seen
        mark = person.mark()
        _, other = await platform.send_direct(person.user_id, Reply("Autre chose"), key=key + "-2")
        await person.wait_for("the next DM", lambda e: e.event_id == other, after=mark)
        keyed = [e for e in person.seen if e.content.get(KEY_FIELD) == key]
        assert [e.event_id for e in keyed] == [first]
    finally:
        await person.close()


async def test_someone_who_joined_while_the_bot_was_down_is_welcomed_when_it_is_back(
    synapse: SynapseServer, bot_home: Path, tmp_path: Path
) -> None:
    settings = matrix_only(synapse, f"sqlite:///{bot_home / 'intra-bot.sqlite3'}")
    app = await started(settings)
    await app.stop()  # the sync token is stored: the next start resumes from here
    newcomer = await new_user(synapse, tmp_path)
    try:
        await newcomer.client.join(synapse.public_room_id)
        await newcomer.wait_joined(synapse.public_room_id, newcomer.user_id)
        app = await started(settings)
        welcome = await direct_message(
            newcomer,
            synapse.bot_user_id,
            "the welcome",
            lambda e: "Bienvenue" in str(e.content.get("body")),
            after=0,
        )
        assert welcome.encrypted and not welcome.undecryptable, welcome
    finally:
        await newcomer.close()
        await app.stop()
