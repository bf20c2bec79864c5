"""Nothing lost across restarts, on the real server: Mattermost restarted under the bot,
the bot stopped while people write, the bot SIGKILLed at a chosen REST call (held by a
loopback proxy) after a request was recorded and in the middle of an « Accepter »."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.bot.test_invitations import (
    PASSWORD,
    Person,
    click,
    is_member,
    notice_for,
    person,
    wait_until,
)
from tests.e2e.bot_process import BotProcess, MattermostUser, create_intra
from tests.e2e.tcp_proxy import TcpProxy
from tests.e2e.user_socket import UserSocket
from tests.mattermost_server import MattermostServer, _run

pytestmark = pytest.mark.e2e

QUESTIONS = ("certification", "club", "référents", "accompagnement", "ressources", "canaux")


def restart_mattermost(server: MattermostServer) -> None:
    """scripts/mattermost.sh restart, then wait for /system/ping like a user would."""
    result = _run("restart", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    wait_for_ping(server)


def wait_for_ping(server: MattermostServer, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(server.url + "/api/v4/system/ping", timeout=2).status_code == 200:
                return time.monotonic()
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError("Mattermost did not answer /system/ping")


def bot_replies(user: MattermostUser, channel_id: str, since: int) -> list[dict[str, Any]]:
    return [p for p in user.posts_in(channel_id, since) if p["user_id"] == user.server.bot_user_id]


def replies_to(user: MattermostUser, dm: str, asked: list[dict[str, Any]]) -> int:
    """How many bot replies follow the first question (one per question is expected)."""
    return len(bot_replies(user, dm, asked[0]["create_at"]))


def events_of(process: BotProcess) -> str:
    """The bot's own log lines (not the HTTP client's debug ones), for a failure message."""
    lines = process.log_path.read_text(errors="replace").splitlines()
    return "\n".join(line for line in lines if "logger=bot." in line)[-8000:]


def sigkill(process: BotProcess) -> None:
    assert process.process is not None
    os.kill(process.process.pid, signal.SIGKILL)
    process.process.wait(10)
    process.log_file.close()


# -- finding 1: catch-up -------------------------------------------------------------------


def test_dms_sent_as_soon_as_a_restarted_server_answers_are_all_answered(
    mattermost: MattermostServer, bot: BotProcess, alice: MattermostUser
) -> None:
    dm = alice.dm_channel_with(mattermost.bot_user_id)
    asked: list[dict[str, Any]] = []
    for round_ in range(3):
        restart_mattermost(mattermost)
        for question in QUESTIONS[2 * round_ : 2 * round_ + 2]:
            asked.append(alice.post(dm, question))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and replies_to(alice, dm, asked) < len(asked):
        time.sleep(0.2)
    answered = replies_to(alice, dm, asked)
    assert answered == len(asked), f"{answered} of {len(asked)} DMs answered\n" + events_of(bot)
    # The whole log: the DEBUG lines of a reply the outbox delivers late (deferred during
    # a restart) push the catch-up out of `logs()`'s tail.
    assert "event=catchup_done" in bot.log_text()


def test_what_is_written_while_the_bot_is_stopped_is_answered_after_it_starts(
    mattermost: MattermostServer, bot_env: dict[str, str], alice: MattermostUser, tmp_path: Path
) -> None:
    dm = alice.dm_channel_with(mattermost.bot_user_id)
    first = BotProcess(bot_env, tmp_path / "first.log").start()
    before = alice.post(dm, "certification")
    alice.wait_for_post(
        dm, lambda p: p["user_id"] == mattermost.bot_user_id, since_ms=before["create_at"]
    )
    first.stop()
    # While it is down (a deploy): a DM, a mention in a channel, and a newcomer.
    question = alice.post(dm, "qui sont les référents ?")
    tag = uuid.uuid4().hex[:6]
    mention = alice.post(mattermost.public_channel_id, f"@{mattermost.bot_username} club {tag}")
    newcomer = f"intra{uuid.uuid4().hex[:10]}"
    newcomer_id = create_intra(mattermost, newcomer, PASSWORD)
    second = BotProcess(bot_env, tmp_path / "second.log").start()
    try:
        alice.wait_for_post(
            dm,
            lambda p: p["user_id"] == mattermost.bot_user_id and "Marine Purson" in p["message"],
            since_ms=question["create_at"],
            timeout=30,
        )
        alice.wait_for_post(
            mattermost.public_channel_id,
            lambda p: p["user_id"] == mattermost.bot_user_id and p["root_id"] == mention["id"],
            since_ms=mention["create_at"],
            timeout=30,
        )
        joiner = person(mattermost, newcomer)
        assert joiner.id == newcomer_id
        welcome_dm = joiner.dm_with(mattermost.bot_user_id)
        wait_until(
            lambda: any(
                "Bienvenue dans ~domaine-intrapreneurs" in p["message"]
                for p in joiner.bot_posts(mattermost, welcome_dm)
            ),
            timeout=30,
        )
        joiner.client.close()
        # Each was answered once: the DM answered before the stop was not answered again.
        assert len(bot_replies(alice, dm, before["create_at"])) == 2
        assert second.health()[1]["parts"]["outbox"]["pending"] == 0  # the welcome is done
    finally:
        second.stop()


def test_a_reply_cut_off_on_its_way_to_mattermost_is_sent_once_it_can_be(
    mattermost: MattermostServer,
    bot_env: dict[str, str],
    proxied: TcpProxy,
    alice: MattermostUser,
    tmp_path: Path,
) -> None:
    process = BotProcess(
        {**bot_env, "INTRA_BOT_MATTERMOST__URL": proxied.url}, tmp_path / "bot.log"
    ).start()
    try:
        dm = alice.dm_channel_with(mattermost.bot_user_id)
        proxied.hold_request(b"POST /api/v4/posts ")
        question = alice.post(dm, "certification")
        assert proxied.held.wait(20), events_of(process)
        proxied.release()  # the reply's connection is cut: Mattermost never saw it
        alice.wait_for_post(
            dm,
            lambda p: p["user_id"] == mattermost.bot_user_id and "RS6247" in p["message"],
            since_ms=question["create_at"],
            timeout=30,
        )
        wait_until(lambda: "deferred=true" in events_of(process))
        assert len(bot_replies(alice, dm, question["create_at"])) == 1
    finally:
        process.stop()


# -- finding 6: the outbox ------------------------------------------------------------------


def killed_while_asking_to_join(
    mattermost: MattermostServer,
    bot_env: dict[str, str],
    proxied: TcpProxy,
    newcomer: Person,
    tmp_path: Path,
    hold: Callable[[], None],
) -> tuple[BotProcess, BotProcess]:
    """`/intra rejoindre` with the REST call `hold` picks held, the bot SIGKILLed there, and
    a second bot started on the same store: both returned, the second running."""
    env = {
        **bot_env,
        "INTRA_BOT_MATTERMOST__URL": proxied.url,
        "INTRA_BOT_OUTBOX__LEASE_SECONDS": "3",
    }
    first = BotProcess(env, tmp_path / "first.log").start()
    hold()
    asking = threading.Thread(
        target=lambda: newcomer.client.post(
            "/commands/execute",
            json={"channel_id": mattermost.public_channel_id, "command": "/intra rejoindre"},
        ),
        daemon=True,
    )
    asking.start()
    if not proxied.held.wait(20):
        first.stop()  # or it keeps the session's port, and every later test fails to start
        raise AssertionError(f"the held call never came:\n{first.logs()}")
    sigkill(first)
    proxied.release()
    asking.join(40)
    return first, BotProcess(env, tmp_path / "second.log").start()


def test_a_bot_killed_after_recording_a_request_notifies_the_referents_after_restart(
    mattermost: MattermostServer,
    bot_env: dict[str, str],
    proxied: TcpProxy,
    newcomer: Person,
    referents: dict[str, Person],
    tmp_path: Path,
) -> None:
    # The referents' ids are pinned at the connection: the first notice starts by opening
    # its DM channel. Hold that call, then kill.
    _, second = killed_while_asking_to_join(
        mattermost,
        bot_env,
        proxied,
        newcomer,
        tmp_path,
        lambda: proxied.hold_request(b"POST /api/v4/channels/direct"),
    )
    try:
        notices = {
            name: notice_for(mattermost, r, newcomer.username, timeout=30)
            for name, r in referents.items()
        }
        for name, referent in referents.items():
            dm = referent.dm_with(mattermost.bot_user_id)
            about = [
                p
                for p in referent.bot_posts(mattermost, dm)
                if f"`@{newcomer.username}`" in p["message"]
            ]
            assert len(about) == 1, f"{name} got {len(about)} notices"
            assert notices[name]["props"]["attachments"][0]["actions"]
        # and the buttons of a notice sent by the second process work
        magali = referents["magali.marcel"]
        assert click(magali, notices["magali.marcel"], "Accepter").status_code == 200
        wait_until(lambda: is_member(mattermost, newcomer.id))
    finally:
        second.stop()


def test_a_bot_killed_after_a_notice_was_created_does_not_send_it_twice(
    mattermost: MattermostServer,
    bot_env: dict[str, str],
    proxied: TcpProxy,
    newcomer: Person,
    referents: dict[str, Person],
    tmp_path: Path,
) -> None:
    # The first notice reaches Mattermost, which creates it; the bot dies before the answer.
    first, second = killed_while_asking_to_join(
        mattermost,
        bot_env,
        proxied,
        newcomer,
        tmp_path,
        lambda: proxied.hold_response(b"POST /api/v4/posts "),
    )
    try:
        notices = {
            name: notice_for(mattermost, r, newcomer.username, timeout=30)
            for name, r in referents.items()
        }
        for name in referents:  # both notices done by the second process (or the first)
            wait_until(
                lambda name=name: (
                    f":notice:@{name} kind=invitation.notice" in second.log_text()
                    or f":notice:@{name} kind=invitation.notice" in first.log_text()
                ),
                timeout=30,
            )
        for name, referent in referents.items():
            dm = referent.dm_with(mattermost.bot_user_id)
            about = [
                p
                for p in referent.bot_posts(mattermost, dm)
                if f"`@{newcomer.username}`" in p["message"]
            ]
            assert len(about) == 1, f"{name} got {len(about)} notices"
        assert "event=outbox_already_sent" in second.log_text()
        # The copy made by the dead process is known: accepting updates both notices.
        assert (
            click(referents["marine.purson"], notices["marine.purson"], "Accepter").status_code
            == 200
        )
        for name, referent in referents.items():

            def updated(referent: Person = referent, post_id: str = notices[name]["id"]) -> bool:
                post = referent.client.get(f"/posts/{post_id}").json()
                return "✅ **Acceptée**" in post["message"]

            wait_until(updated, timeout=30)
    finally:
        second.stop()


# -- finding 5: a decision left half-way ----------------------------------------------------


def accept_in_background(referent: Person, notice: dict[str, Any]) -> threading.Thread:
    thread = threading.Thread(target=lambda: click(referent, notice, "Accepter"), daemon=True)
    thread.start()
    return thread


def test_an_accept_killed_before_the_channel_add_is_released_and_can_be_redone(
    mattermost: MattermostServer,
    bot_env: dict[str, str],
    proxied: TcpProxy,
    newcomer: Person,
    referents: dict[str, Person],
    tmp_path: Path,
) -> None:
    env = {
        **bot_env,
        "INTRA_BOT_MATTERMOST__URL": proxied.url,
        "INTRA_BOT_INVITATIONS__DECISION_LEASE_SECONDS": "15",
    }
    first = BotProcess(env, tmp_path / "first.log").start()
    newcomer.command(mattermost, "/intra rejoindre")
    magali, marine = referents["magali.marcel"], referents["marine.purson"]
    notices = {name: notice_for(mattermost, r, newcomer.username) for name, r in referents.items()}
    proxied.hold_request(f"POST /api/v4/channels/{mattermost.private_channel_id}/members".encode())
    clicking = accept_in_background(magali, notices["magali.marcel"])
    assert proxied.held.wait(20), first.logs()
    sigkill(first)
    proxied.release()
    clicking.join(40)
    second = BotProcess(env, tmp_path / "second.log").start()
    socket = UserSocket(mattermost.ws_url, marine.token)
    try:
        assert click(marine, notices["marine.purson"], "Accepter").status_code == 200
        wait_until(lambda: bool(socket.ephemeral_texts()))
        told = socket.ephemeral_texts()[0]
        assert "en cours de traitement par `@magali.marcel`" in told, told
        assert not is_member(mattermost, newcomer.id)
        # After the lease, the next process sees nobody was added and reopens the request.
        wait_until(lambda: "event=invitation_released" in second.log_text(), timeout=60)
        post = marine.client.get(f"/posts/{notices['marine.purson']['id']}").json()
        assert post["props"]["attachments"][0]["actions"], "the buttons must stay live"
        assert click(marine, notices["marine.purson"], "Accepter").status_code == 200
        wait_until(lambda: is_member(mattermost, newcomer.id))
    finally:
        socket.close()
        second.stop()


def test_an_accept_killed_after_the_channel_add_is_completed_with_its_messages(
    mattermost: MattermostServer,
    bot_env: dict[str, str],
    proxied: TcpProxy,
    newcomer: Person,
    referents: dict[str, Person],
    tmp_path: Path,
) -> None:
    env = {
        **bot_env,
        "INTRA_BOT_MATTERMOST__URL": proxied.url,
        "INTRA_BOT_INVITATIONS__DECISION_LEASE_SECONDS": "10",
    }
    first = BotProcess(env, tmp_path / "first.log").start()
    newcomer.command(mattermost, "/intra rejoindre")
    magali = referents["magali.marcel"]
    notices = {name: notice_for(mattermost, r, newcomer.username) for name, r in referents.items()}
    # The add reaches the server; its answer never reaches the bot, which dies.
    proxied.hold_response(f"POST /api/v4/channels/{mattermost.private_channel_id}/members".encode())
    clicking = accept_in_background(magali, notices["magali.marcel"])
    assert proxied.held.wait(20), first.logs()
    sigkill(first)
    proxied.release()
    clicking.join(40)
    assert is_member(mattermost, newcomer.id)
    second = BotProcess(env, tmp_path / "second.log").start()
    try:
        for name, referent in referents.items():

            def updated(referent: Person = referent, post_id: str = notices[name]["id"]) -> bool:
                post = referent.client.get(f"/posts/{post_id}").json()
                return "✅ **Acceptée** par `@magali.marcel`" in post["message"] and not post[
                    "props"
                ].get("attachments")

            wait_until(updated, timeout=60)
        dm = newcomer.dm_with(mattermost.bot_user_id)
        wait_until(
            lambda: any(
                "Bienvenue dans ~domaine-intras-prive" in p["message"]
                for p in newcomer.bot_posts(mattermost, dm)
            )
        )
    finally:
        second.stop()


@pytest.fixture
def newcomer(mattermost: MattermostServer) -> Iterator[Person]:
    name = f"intra{uuid.uuid4().hex[:10]}"
    create_intra(
        mattermost, name, PASSWORD, first_name="Camille", last_name="Testeuse", position="Intra"
    )
    someone = person(mattermost, name)
    yield someone
    someone.client.close()


@pytest.fixture
def referents(mattermost: MattermostServer) -> Iterator[dict[str, Person]]:
    people = {name: person(mattermost, name) for name in ("magali.marcel", "marine.purson")}
    yield people
    for someone in people.values():
        someone.client.close()
