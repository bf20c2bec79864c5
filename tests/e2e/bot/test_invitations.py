"""Invitations to ~domaine-intras-prive on the real server: request, buttons, dialog,
races, forged callbacks, restarts, and what a referent is told when the add fails."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.bot_process import BotProcess, create_intra, restore_bot_in_private_channel
from tests.e2e.user_socket import UserSocket
from tests.mattermost_server import MattermostServer
from tests.waiting import stays, until

pytestmark = pytest.mark.e2e

PASSWORD = "Passw0rd-intra-bot!"


@dataclass
class Person:
    id: str
    username: str
    token: str
    client: httpx.Client

    def command(self, server: MattermostServer, text: str, channel_id: str = "") -> str:
        channel_id = channel_id or server.public_channel_id
        response = self.client.post(
            "/commands/execute",
            json={"channel_id": channel_id, "command": text, "team_id": server.team_id},
        )
        assert response.status_code == 200, response.text
        return str(response.json().get("text", ""))

    def dm_with(self, user_id: str) -> str:
        return str(self.client.post("/channels/direct", json=[self.id, user_id]).json()["id"])

    def bot_posts(self, server: MattermostServer, channel_id: str) -> list[dict[str, Any]]:
        data = self.client.get(f"/channels/{channel_id}/posts").json()
        posts = [p for p in data["posts"].values() if p["user_id"] == server.bot_user_id]
        return sorted(posts, key=lambda p: p["create_at"])


def person(server: MattermostServer, username: str) -> Person:
    token = server.login(username)
    client = server.client(token)
    me = client.get("/users/me").json()
    return Person(me["id"], username, token, client)


@pytest.fixture
def newcomer(mattermost: MattermostServer) -> Iterator[Person]:
    """A fresh intra, member of the team and of the public channel only."""
    name = f"intra{uuid.uuid4().hex[:10]}"
    create_intra(
        mattermost,
        name,
        PASSWORD,
        first_name="Camille",
        last_name="Testeuse",
        position="Intra à la DGFiP",
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


def is_member(server: MattermostServer, user_id: str) -> bool:
    with server.client(server.admin_token) as admin:
        return (
            admin.get(f"/channels/{server.private_channel_id}/members/{user_id}").status_code == 200
        )


def notice_for(
    server: MattermostServer, referent: Person, requester: str, timeout: float = 10
) -> dict[str, Any]:
    dm = referent.dm_with(server.bot_user_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for post in reversed(referent.bot_posts(server, dm)):
            if f"`@{requester}`" in post["message"]:
                return post
        time.sleep(0.1)
    raise AssertionError(f"{referent.username} got no notice about {requester}")


def click(referent: Person, post: dict[str, Any], label: str) -> httpx.Response:
    actions = post["props"]["attachments"][0]["actions"]
    action = next(a for a in actions if a["name"] == label)
    return referent.client.post(f"/posts/{post['id']}/actions/{action['id']}", json={})


def wait_until(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_request_notify_accept_add_welcome_and_outcome(
    mattermost: MattermostServer, bot: BotProcess, newcomer: Person, referents: dict[str, Person]
) -> None:
    answer = newcomer.command(
        mattermost, '/intra rejoindre "Bonjour @channel, je suis intra à la DGFiP"'
    )
    assert "a été transmise aux référentes" in answer
    notices = {name: notice_for(mattermost, r, newcomer.username) for name, r in referents.items()}
    for post in notices.values():
        assert "@channel" not in post["message"] and "@\u2060channel" in post["message"]
        assert "**Camille Testeuse**" in post["message"] and "Intra à la DGFiP" in post["message"]
        labels = [a["name"] for a in post["props"]["attachments"][0]["actions"]]
        assert labels == ["Accepter", "Refuser"]
    started = time.monotonic()
    assert (
        click(referents["marine.purson"], notices["marine.purson"], "Accepter").status_code == 200
    )
    wait_until(lambda: is_member(mattermost, newcomer.id))
    print(f"click to membership: {time.monotonic() - started:.3f} s")
    welcome_dm = newcomer.dm_with(mattermost.bot_user_id)
    wait_until(
        lambda: any(
            "Bienvenue dans ~domaine-intras-prive" in p["message"]
            for p in newcomer.bot_posts(mattermost, welcome_dm)
        )
    )
    for name, referent in referents.items():

        def updated(referent: Person = referent, post_id: str = notices[name]["id"]) -> bool:
            post = referent.client.get(f"/posts/{post_id}").json()
            return "✅ **Acceptée** par `@marine.purson`" in post["message"] and not post[
                "props"
            ].get("attachments")

        wait_until(updated)


def test_decline_through_the_dialog_with_a_reason(
    mattermost: MattermostServer, bot: BotProcess, newcomer: Person, referents: dict[str, Person]
) -> None:
    newcomer.command(mattermost, "/intra rejoindre")
    magali = referents["magali.marcel"]
    notice = notice_for(mattermost, magali, newcomer.username)
    socket = UserSocket(mattermost.ws_url, magali.token)
    try:
        assert click(magali, notice, "Refuser").status_code == 200
        opened = socket.wait_for("open_dialog")
    finally:
        socket.close()
    dialog = opened["dialog"]
    assert dialog["dialog"]["elements"][0]["name"] == "reason"
    submitted = magali.client.post(
        "/actions/dialogs/submit",
        json={
            "url": dialog["url"],
            "callback_id": dialog["dialog"]["callback_id"],
            "state": dialog["dialog"]["state"],
            "submission": {"reason": "Ce canal est réservé aux intras en poste, @all"},
            "channel_id": notice["channel_id"],
            "team_id": mattermost.team_id,
        },
    )
    assert submitted.status_code == 200, submitted.text
    dm = newcomer.dm_with(mattermost.bot_user_id)
    wait_until(
        lambda: any(
            "n'a pas été acceptée" in p["message"] for p in newcomer.bot_posts(mattermost, dm)
        )
    )
    message = next(
        p["message"]
        for p in newcomer.bot_posts(mattermost, dm)
        if "n'a pas été acceptée" in p["message"]
    )
    assert "réservé aux intras en poste" in message and "@all" not in message
    assert not is_member(mattermost, newcomer.id)
    wait_until(
        lambda: "❌ **Refusée**" in magali.client.get(f"/posts/{notice['id']}").json()["message"]
    )
    # and the cool-down: no new request
    assert "Vous pourrez en faire une nouvelle à partir du" in newcomer.command(
        mattermost, "/intra rejoindre"
    )


def test_two_referents_clicking_at_once_make_one_decision(
    mattermost: MattermostServer, bot: BotProcess, newcomer: Person, referents: dict[str, Person]
) -> None:
    newcomer.command(mattermost, "/intra rejoindre")
    notices = {name: notice_for(mattermost, r, newcomer.username) for name, r in referents.items()}
    sockets = {name: UserSocket(mattermost.ws_url, r.token) for name, r in referents.items()}
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def go(name: str) -> None:
        barrier.wait()
        results[name] = click(referents[name], notices[name], "Accepter").status_code

    try:
        threads = [threading.Thread(target=go, args=(name,)) for name in referents]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert set(results.values()) == {200}
        wait_until(lambda: is_member(mattermost, newcomer.id))
        wait_until(lambda: sum(len(s.ephemeral_texts()) for s in sockets.values()) >= 2)
        texts = [t for s in sockets.values() for t in s.ephemeral_texts()]
    finally:
        for s in sockets.values():
            s.close()
    assert sum("a été ajouté·e" in t for t in texts) == 1
    # The loser is told the request is being handled (the winner is still adding) or was.
    assert (
        sum("déjà été traitée par `@" in t or "en cours de traitement par `@" in t for t in texts)
        == 1
    )
    dm = newcomer.dm_with(mattermost.bot_user_id)

    def welcomes() -> int:
        posts = newcomer.bot_posts(mattermost, dm)
        return sum("Bienvenue dans ~domaine-intras-prive" in p["message"] for p in posts)

    until(lambda: welcomes() >= 1, "the requester is told the good news")
    # Two referents clicked at once: a late second welcome would fail here.
    stays(lambda: welcomes() == 1, "one welcome to the private channel, never a second")


def test_forged_and_non_referent_clicks_change_nothing(
    mattermost: MattermostServer,
    bot: BotProcess,
    newcomer: Person,
    referents: dict[str, Person],
    tmp_path: Path,
) -> None:
    newcomer.command(mattermost, "/intra rejoindre")
    notice = notice_for(mattermost, referents["magali.marcel"], newcomer.username)
    # A forged callback straight to the bot, with a context we made up.
    forged = httpx.post(
        bot.url + "/mattermost/action",
        json={
            "user_id": referents["magali.marcel"].id,
            "context": {"action": "accept", "value": "0" * 16, "sig": "0" * 64},
        },
    )
    assert forged.status_code == 403
    # A non-referent asking for the list of requests.
    alice = person(mattermost, "alice.intra")
    assert "réservée aux référentes" in alice.command(mattermost, "/intra demandes")
    alice.client.close()
    assert not is_member(mattermost, newcomer.id)
    magali = referents["magali.marcel"]
    listing = magali.command(mattermost, "/intra demandes", magali.dm_with(mattermost.bot_user_id))
    assert "en attente" in listing
    assert notice["props"]["attachments"]


def test_non_referent_click_in_a_referents_channel_is_refused(
    mattermost: MattermostServer,
    bot_env: dict[str, str],
    newcomer: Person,
    referents: dict[str, Person],
    tmp_path: Path,
) -> None:
    name = f"referents-{uuid.uuid4().hex[:6]}"
    alice = person(mattermost, "alice.intra")
    with mattermost.client(mattermost.admin_token) as admin:
        channel = admin.post(
            "/channels",
            json={"team_id": mattermost.team_id, "name": name, "display_name": name, "type": "P"},
        ).json()
        for user_id in (mattermost.bot_user_id, referents["magali.marcel"].id, alice.id):
            admin.post(
                f"/channels/{channel['id']}/members", json={"user_id": user_id}
            ).raise_for_status()
    process = BotProcess(
        {**bot_env, "INTRA_BOT_INVITATIONS__REFERENTS_CHANNEL": name}, tmp_path / "rc.log"
    ).start()
    socket = UserSocket(mattermost.ws_url, alice.token)
    try:
        newcomer.command(mattermost, "/intra rejoindre")
        deadline = time.monotonic() + 10
        posts: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not posts:
            data = alice.client.get(f"/channels/{channel['id']}/posts").json()
            posts = [p for p in data["posts"].values() if f"`@{newcomer.username}`" in p["message"]]
            time.sleep(0.1)
        assert posts, "no notice in the referents' channel"
        assert click(alice, posts[0], "Accepter").status_code == 200
        wait_until(lambda: any("Seules les référentes" in t for t in socket.ephemeral_texts()))
        assert not is_member(mattermost, newcomer.id)
        assert click(referents["magali.marcel"], posts[0], "Accepter").status_code == 200
        wait_until(lambda: is_member(mattermost, newcomer.id))
    finally:
        socket.close()
        alice.client.close()
        process.stop()


def test_click_after_a_bot_restart_still_works(
    mattermost: MattermostServer,
    bot_env: dict[str, str],
    newcomer: Person,
    referents: dict[str, Person],
    tmp_path: Path,
) -> None:
    first = BotProcess(bot_env, tmp_path / "first.log").start()
    newcomer.command(mattermost, "/intra rejoindre")
    notice = notice_for(mattermost, referents["marine.purson"], newcomer.username)
    first.stop()
    second = BotProcess(bot_env, tmp_path / "second.log").start()
    try:
        assert click(referents["marine.purson"], notice, "Accepter").status_code == 200
        wait_until(lambda: is_member(mattermost, newcomer.id))
    finally:
        second.stop()


def test_add_failure_tells_the_referent_and_keeps_the_request_open(
    mattermost: MattermostServer, bot: BotProcess, newcomer: Person, referents: dict[str, Person]
) -> None:
    newcomer.command(mattermost, "/intra rejoindre")
    marine = referents["marine.purson"]
    notice = notice_for(mattermost, marine, newcomer.username)
    channel = mattermost.private_channel_id
    socket = UserSocket(mattermost.ws_url, marine.token)
    with mattermost.client(mattermost.admin_token) as admin:
        admin.delete(f"/channels/{channel}/members/{mattermost.bot_user_id}").raise_for_status()
        try:
            assert click(marine, notice, "Accepter").status_code == 200
            wait_until(lambda: any("Je n'ai pas pu ajouter" in t for t in socket.ephemeral_texts()))
            advice = next(t for t in socket.ephemeral_texts() if "Je n'ai pas pu ajouter" in t)
            assert "/invite @intra-bot" in advice and "La demande reste ouverte" in advice
            assert not is_member(mattermost, newcomer.id)
            listing = marine.command(
                mattermost, "/intra demandes", marine.dm_with(mattermost.bot_user_id)
            )
            assert "en attente" in listing
            assert "en attente depuis" in newcomer.command(mattermost, "/intra rejoindre")
        finally:
            socket.close()
            restore_bot_in_private_channel(mattermost)
    # once fixed, the same button works
    assert click(marine, notice, "Accepter").status_code == 200
    wait_until(lambda: is_member(mattermost, newcomer.id))


def test_duplicate_already_member_and_pending(
    mattermost: MattermostServer, bot: BotProcess, newcomer: Person
) -> None:
    assert "a été transmise" in newcomer.command(mattermost, "/intra rejoindre")
    assert "est en attente depuis le" in newcomer.command(mattermost, "/intra acces merci")
    with mattermost.client(mattermost.admin_token) as admin:
        admin.post(
            f"/channels/{mattermost.private_channel_id}/members", json={"user_id": newcomer.id}
        ).raise_for_status()
    assert "Vous êtes déjà membre de ~domaine-intras-prive" in newcomer.command(
        mattermost, "/intra invitation"
    )


def test_requests_list_shows_each_open_request_with_its_buttons(
    mattermost: MattermostServer, bot: BotProcess, newcomer: Person, referents: dict[str, Person]
) -> None:
    newcomer.command(mattermost, '/intra rejoindre "je suis intra"')
    marine = referents["marine.purson"]
    response = marine.client.post(
        "/commands/execute",
        json={
            "channel_id": marine.dm_with(mattermost.bot_user_id),
            "command": "/intra demandes",
            "team_id": mattermost.team_id,
        },
    )
    body = response.json()
    assert "en attente" in body["text"]
    cards = [a for a in body.get("attachments", []) if f"`@{newcomer.username}`" in a["text"]]
    assert len(cards) == 1
    assert [a["name"] for a in cards[0]["actions"]] == ["Accepter", "Refuser"]
    assert "je suis intra" in cards[0]["text"]
