"""Invitations on Tchap against the real Synapse: the whole app (`BotApp`) serving Matrix.

An intra types `!intra rejoindre`; each deciding referent (Matrix ids in a copy of the
content) gets the notice by DM with the bot's ✅/❌ reactions; a ✅ reaction or a typed
`!intra accepter N` invites the intra into the private room, a refusal's reason reaches
the intra by DM, and every notice is edited (`m.replace`) to its final state.
Everything waits on what the clients' syncs show, with deadlines, never fixed sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import statistics
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from bot.answers.conversation import PRIVATE_POINTER
from bot.app import BotApp
from bot.config import Settings
from bot.invitations.records import ACCEPTED, InvitationRecords, invitations
from bot.store import Store
from tests.e2e_matrix.apps import direct_message, referents_content
from tests.e2e_matrix.conftest import SynapseServer, bot_matrix_section, login_user
from tests.e2e_matrix.nio_user import NioUser, Seen
from tests.e2e_matrix.referents import MAGALI, MARINE

pytestmark = pytest.mark.e2e

WAIT_S = 90.0
RUNS = 5


def app_settings(synapse: SynapseServer, bot_home: Path, content: Path) -> Settings:
    return Settings.model_validate(
        {
            "http": {"port": 0},
            "store": {"url": f"sqlite:///{bot_home / 'intra-bot.sqlite3'}"},
            "content": {"dir": str(content)},
            "reminders": {"enabled": False},
            # The same intra asks again in each test: no cool-down after a refusal.
            "invitations": {"cooldown_days": 0},
            "matrix": bot_matrix_section(synapse),
        }
    )


class App:
    """BotApp started and stopped in the test's loop, on the session's stores."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = BotApp(settings)

    async def start(self) -> None:
        await self.app.start()
        deadline = time.monotonic() + WAIT_S
        while True:
            _, health = await self.app.health()
            if health["parts"]["matrix"]["ok"]:
                return
            assert time.monotonic() < deadline, health["parts"]["matrix"]
            await asyncio.sleep(0.1)  # polling a condition, with a deadline

    def records(self) -> InvitationRecords:
        return self.app.invitations.records


@pytest.fixture
async def app(synapse: SynapseServer, bot_home: Path, tmp_path: Path) -> AsyncIterator[App]:
    settings = app_settings(synapse, bot_home, referents_content(synapse, tmp_path))
    async with running_app(settings, synapse.user_ids["alice.intra"]) as running:
        yield running


@contextlib.asynccontextmanager
async def running_app(settings: Settings, requester: str) -> AsyncIterator[App]:
    """The app on the session's stores, each test starting with no request from
    `requester` (whatever an earlier test left)."""
    forget_requests(settings, requester)
    running = App(settings)
    await running.start()
    try:
        yield running
    finally:
        await running.app.stop()
        forget_requests(settings, requester)


def forget_requests(settings: Settings, user_id: str) -> None:
    store = Store.open(settings.store.url)
    try:
        InvitationRecords(store)  # the table, up to date
        with store.engine.begin() as connection:
            connection.execute(delete(invitations).where(invitations.c.requester_id == user_id))
    finally:
        store.close()


@pytest.fixture
async def magali(synapse: SynapseServer, tmp_path: Path) -> AsyncIterator[NioUser]:
    user = await login_user(synapse, MAGALI, tmp_path / "magali")
    try:
        yield user
    finally:
        await user.close()


@pytest.fixture(autouse=True)
def alice_outside(synapse: SynapseServer) -> Iterator[None]:
    """Alice asks to join in every test: out of the private room, as bootstrapped."""
    kick(synapse, synapse.private_room_id, synapse.user_ids["alice.intra"])
    yield
    kick(synapse, synapse.private_room_id, synapse.user_ids["alice.intra"])


def kick(synapse: SynapseServer, room_id: str, user_id: str) -> None:
    room = urllib.parse.quote(room_id, safe="")
    state = synapse.admin("GET", f"/_synapse/admin/v1/rooms/{room}/state")
    assert isinstance(state, dict)
    for event in state.get("state", []):
        if (
            event.get("type") == "m.room.member"
            and event.get("state_key") == user_id
            and event.get("content", {}).get("membership") in ("join", "invite")
        ):
            synapse.admin("POST", f"/_matrix/client/v3/rooms/{room}/kick", {"user_id": user_id})


def invites_of(synapse: SynapseServer, user_id: str, since_ms: int) -> int:
    """How many times `user_id` was invited into the private room since `since_ms`."""
    room = urllib.parse.quote(synapse.private_room_id, safe="")
    page = synapse.admin("GET", f"/_synapse/admin/v1/rooms/{room}/messages?dir=b&limit=100")
    assert isinstance(page, dict)
    return sum(
        1
        for e in page.get("chunk", [])
        if e.get("type") == "m.room.member"
        and e.get("state_key") == user_id
        and e.get("content", {}).get("membership") == "invite"
        and int(e.get("origin_server_ts", 0)) >= since_ms
    )


async def join_bot_rooms(user: NioUser, bot: str, private_room: str) -> None:
    """Join every room the bot invited `user` to (its DMs), never the private room."""
    for room_id, room in list(user.client.invited_rooms.items()):
        if room.inviter == bot and room_id != private_room:
            await user.client.join(room_id)


async def wait_bot_event(
    user: NioUser,
    synapse: SynapseServer,
    what: str,
    predicate: Any,
    after: int,
) -> Seen:
    """Like `NioUser.wait_for`, joining the bot's DM invitations on the way."""
    deadline = time.monotonic() + WAIT_S
    checked = after
    while True:
        for event in user.seen[checked:]:
            if event.sender == synapse.bot_user_id and predicate(event):
                return event
        checked = len(user.seen)
        assert time.monotonic() < deadline, f"{user.user_id}: no {what} within {WAIT_S} s"
        await join_bot_rooms(user, synapse.bot_user_id, synapse.private_room_id)
        await user.sync(timeout_ms=1000)


def body(event: Seen) -> str:
    return str(event.content.get("body", ""))


def is_notice_for(requester: str) -> Any:
    return lambda e: (
        e.type == "m.room.message"
        and "Demande d'accès" in body(e)
        and requester in body(e)
        and "m.new_content" not in e.content
    )


def edit_of(notice: Seen, words: str) -> Any:
    return lambda e: (
        (e.content.get("m.relates_to") or {}).get("rel_type") == "m.replace"
        and (e.content.get("m.relates_to") or {}).get("event_id") == notice.event_id
        and words in str((e.content.get("m.new_content") or {}).get("body", ""))
    )


def number_of(notice: Seen) -> int:
    found = re.search(r"Demande n° (\d+)", body(notice))
    assert found, body(notice)
    return int(found.group(1))


async def react(user: NioUser, notice: Seen, key: str) -> None:
    content = {
        "m.relates_to": {"rel_type": "m.annotation", "event_id": notice.event_id, "key": key}
    }
    response = await user.client.room_send(
        notice.room_id, "m.reaction", content, ignore_unverified_devices=True
    )
    assert getattr(response, "event_id", None), f"reaction failed: {response}"


async def ask(alice: NioUser, synapse: SynapseServer, text: str = "") -> None:
    """`!intra rejoindre` in the public room: about one person's own request, the answer is
    private (the core says so): the room gets the pointer, the asker the answer by DM."""
    mark = alice.mark()
    question = await alice.send_text(synapse.public_room_id, f"!intra rejoindre {text}".strip())
    pointer = await alice.reply_to(question, after=mark, timeout=WAIT_S)
    assert body(pointer) == PRIVATE_POINTER.text, body(pointer)
    answer = await direct_message(
        alice,
        synapse.bot_user_id,
        "the request's confirmation",
        lambda e: e.room_id != synapse.public_room_id and "transmise aux référentes" in body(e),
        after=mark,
    )
    assert answer.encrypted and not answer.undecryptable, answer


async def request_and_notices(
    alice: NioUser, referents: list[NioUser], synapse: SynapseServer, text: str = ""
) -> list[Seen]:
    marks = [r.mark() for r in referents]
    await ask(alice, synapse, text)
    notices = []
    for referent, mark in zip(referents, marks, strict=True):
        notice = await wait_bot_event(
            referent, synapse, "notice", is_notice_for(alice.user_id), mark
        )
        notices.append(notice)
        # The bot's own reactions: the choices a referent taps.
        await wait_bot_event(
            referent,
            synapse,
            "✅ offered",
            lambda e, n=notice: (
                (e.content.get("m.relates_to") or {}).get("event_id") == n.event_id
                and (e.content.get("m.relates_to") or {}).get("key") == "✅"
            ),
            mark,
        )
    return notices


async def wait_invited(alice: NioUser, synapse: SynapseServer) -> float:
    """Sync until the private room's invitation reaches alice; the moment it did."""
    deadline = time.monotonic() + WAIT_S
    while synapse.private_room_id not in alice.client.invited_rooms:
        assert time.monotonic() < deadline, "alice was not invited into the private room"
        await alice.sync(timeout_ms=1000)
    return time.perf_counter()


async def test_a_reaction_accepts_invites_and_edits_every_notice(
    app: App, synapse: SynapseServer, alice: NioUser, marine: NioUser, magali: NioUser
) -> None:
    notices = await request_and_notices(alice, [marine, magali], synapse, "Bonjour !")
    mark = alice.mark()
    await react(marine, notices[0], "✅")
    await wait_invited(alice, synapse)
    told = await wait_bot_event(
        alice, synapse, "acceptance DM", lambda e: "Bonne nouvelle" in body(e), mark
    )
    assert synapse.user_ids[MARINE].lstrip("@") in body(told)
    for referent, notice in zip([marine, magali], notices, strict=True):
        await wait_bot_event(referent, synapse, "edit", edit_of(notice, "Acceptée"), 0)


async def test_reaction_to_invite_latency(
    app: App, synapse: SynapseServer, alice: NioUser, marine: NioUser
) -> None:
    """Reaction -> invitation seen in the intra's sync, measured over several requests."""
    durations = []
    for _ in range(RUNS):
        [notice] = await request_and_notices(alice, [marine], synapse)
        started = time.perf_counter()
        await react(marine, notice, "✅")
        durations.append(await wait_invited(alice, synapse) - started)
        kick(synapse, synapse.private_room_id, alice.user_id)
        # matrix-nio keeps a withdrawn invitation in `invited_rooms`: forget it, so the
        # next run waits for the next invitation.
        alice.client.invited_rooms.pop(synapse.private_room_id, None)
    ms = sorted(round(d * 1000) for d in durations)
    print(
        f"\nreaction -> invite visible, {RUNS} runs: median {statistics.median(ms)} ms, "
        f"min {ms[0]} ms, max {ms[-1]} ms ({ms})"
    )


async def test_a_typed_refusal_sends_its_reason_and_edits_the_notices(
    app: App, synapse: SynapseServer, alice: NioUser, marine: NioUser, magali: NioUser
) -> None:
    notices = await request_and_notices(alice, [marine, magali], synapse)
    number = number_of(notices[1])
    mark, magali_mark = alice.mark(), magali.mark()
    await magali.send_text(
        notices[1].room_id, f"!intra refuser {number} le salon est réservé aux intras en poste"
    )
    # In a DM the bot answers in the room, not in a thread.
    await wait_bot_event(
        magali, synapse, "answer", lambda e: "a été refusée" in body(e), magali_mark
    )
    told = await wait_bot_event(
        alice, synapse, "refusal DM", lambda e: "pas été acceptée" in body(e), mark
    )
    assert "réservé aux intras en poste" in body(told)
    for referent, notice in zip([marine, magali], notices, strict=True):
        await wait_bot_event(referent, synapse, "edit", edit_of(notice, "Refusée"), 0)
    assert synapse.private_room_id not in alice.client.invited_rooms


async def test_a_typed_acceptance_invites(
    app: App, synapse: SynapseServer, alice: NioUser, marine: NioUser
) -> None:
    [notice] = await request_and_notices(alice, [marine], synapse)
    await marine.send_text(notice.room_id, f"!intra accepter {number_of(notice)}")
    await wait_invited(alice, synapse)
    await wait_bot_event(marine, synapse, "edit", edit_of(notice, "Acceptée"), 0)


async def test_two_referents_reacting_at_once_make_one_invite(
    app: App, synapse: SynapseServer, alice: NioUser, marine: NioUser, magali: NioUser
) -> None:
    notices = await request_and_notices(alice, [marine, magali], synapse)
    since_ms = int(time.time() * 1000) - 1000
    await asyncio.gather(react(marine, notices[0], "✅"), react(magali, notices[1], "✅"))
    await wait_invited(alice, synapse)
    for referent, notice in zip([marine, magali], notices, strict=True):
        await wait_bot_event(referent, synapse, "edit", edit_of(notice, "Acceptée"), 0)
    assert invites_of(synapse, alice.user_id, since_ms) == 1
    [decided] = requests_of(app, alice.user_id)
    assert decided.state == ACCEPTED
    assert decided.decided_by in (marine.user_id, magali.user_id)


async def test_in_the_referents_room_a_non_referents_reaction_is_ignored(
    synapse: SynapseServer,
    bot_home: Path,
    tmp_path: Path,
    alice: NioUser,
    marine: NioUser,
    bruno: NioUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A room of their own where the requests go (`[matrix] referents_room`); an intra is
    # in it too, and taps ✅ first.
    created = await marine.client.room_create(
        name="Référentes intras",
        invite=[synapse.bot_user_id, bruno.user_id],
        initial_state=[
            {
                "type": "m.room.encryption",
                "state_key": "",
                "content": {"algorithm": "m.megolm.v1.aes-sha2"},
            }
        ],
    )
    room_id = str(getattr(created, "room_id", ""))
    assert room_id, f"createRoom failed: {created}"
    await bruno.client.join(room_id)
    settings = app_settings(synapse, bot_home, referents_content(synapse, tmp_path))
    settings.matrix.referents_room = room_id
    async with running_app(settings, alice.user_id) as app:
        await marine.wait_joined(room_id, synapse.bot_user_id, timeout=WAIT_S)
        await bruno.wait_joined(room_id, synapse.bot_user_id, timeout=WAIT_S)
        [notice] = await request_and_notices(alice, [marine], synapse)
        assert notice.room_id == room_id
        mark = bruno.mark()
        await react(bruno, notice, "✅")
        question = await bruno.send_text(room_id, "!intra aide")
        await bruno.reply_to(question, after=mark, timeout=WAIT_S)
        await react(marine, notice, "✅")
        await wait_invited(alice, synapse)
        # First decision wins: had Bruno's reaction counted, the decision would be his.
        [decided] = requests_of(app, alice.user_id)
        assert decided.decided_by == marine.user_id
        # It was seen (decrypted) and ignored, not lost.
        ignored = [r.getMessage() for r in caplog.records if "reaction_ignored" in r.getMessage()]
        assert any(bruno.user_id in line for line in ignored), ignored
        answers = [e for e in bruno.seen[mark:] if e.sender == synapse.bot_user_id]
        assert not any("ajouté" in body(e) or "Seules" in body(e) for e in answers)


def requests_of(app: App, user_id: str) -> list[Any]:
    with app.app.store.engine.connect() as connection:
        ids = connection.execute(
            select(invitations.c.id).where(invitations.c.requester_id == user_id)
        ).scalars()
        return [app.records().get(str(i)) for i in ids]


async def test_a_bot_restart_between_request_and_decision(
    app: App, synapse: SynapseServer, alice: NioUser, marine: NioUser
) -> None:
    [notice] = await request_and_notices(alice, [marine], synapse)
    await app.app.stop()
    await react(marine, notice, "✅")  # while the bot is down
    app.app = BotApp(app.settings)
    await app.start()
    await wait_invited(alice, synapse)
    await wait_bot_event(marine, synapse, "edit", edit_of(notice, "Acceptée"), 0)
    [decided] = requests_of(app, alice.user_id)
    assert decided.state == ACCEPTED and decided.decided_by == marine.user_id
