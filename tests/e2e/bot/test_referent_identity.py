"""A referent is her Mattermost user id, not her username, on the real server: a referent
renames, someone else takes « marine.purson », and gets none of her rights; after a restart
/healthz says that referent is held until setup is rerun."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.bot.test_invitations import (
    PASSWORD,
    Person,
    is_member,
    notice_for,
    person,
    wait_until,
)
from tests.e2e.bot_process import BotProcess, create_intra
from tests.mattermost_server import MattermostServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def asker(mattermost: MattermostServer) -> Iterator[Person]:
    name = f"intra{uuid.uuid4().hex[:10]}"
    create_intra(mattermost, name, PASSWORD, first_name="Camille", last_name="Testeuse")
    someone = person(mattermost, name)
    yield someone
    someone.client.close()


@pytest.fixture
def deciders(mattermost: MattermostServer) -> Iterator[dict[str, Person]]:
    people = {name: person(mattermost, name) for name in ("magali.marcel", "marine.purson")}
    yield people
    for someone in people.values():
        someone.client.close()


@pytest.fixture
def marine_renamed(
    mattermost: MattermostServer, deciders: dict[str, Person]
) -> Iterator[tuple[Person, Person]]:
    """Marine renamed, and a newcomer holding « marine.purson »: (Marine, the newcomer).
    Both undone after the test, whatever happens: other tests need the real Marine."""
    marine = deciders["marine.purson"]
    suffix = uuid.uuid4().hex[:8]
    with mattermost.client(mattermost.admin_token) as admin:
        admin.put(
            f"/users/{marine.id}/patch", json={"username": f"marine-{suffix}"}
        ).raise_for_status()
        taker_id = ""
        try:
            created = admin.post(
                "/users",
                json={
                    "username": "marine.purson",
                    "email": f"taker-{suffix}@example.test",
                    "password": PASSWORD,
                    "first_name": "Marine",
                    "last_name": "Purson",
                },
            )
            created.raise_for_status()
            taker_id = str(created.json()["id"])
            admin.post(
                f"/teams/{mattermost.team_id}/members",
                json={"team_id": mattermost.team_id, "user_id": taker_id},
            ).raise_for_status()
            taker = person(mattermost, "marine.purson")
            yield marine, taker
            taker.client.close()
        finally:
            if taker_id:  # the name is freed first: a deactivated account keeps its name
                admin.put(f"/users/{taker_id}/patch", json={"username": f"taker-{suffix}"})
                admin.delete(f"/users/{taker_id}")
            admin.put(
                f"/users/{marine.id}/patch", json={"username": "marine.purson"}
            ).raise_for_status()


def test_a_referents_username_taken_by_someone_else_gives_them_no_rights(
    mattermost: MattermostServer,
    bot: BotProcess,
    bot_env: dict[str, str],
    asker: Person,
    deciders: dict[str, Person],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    asker.command(mattermost, "/intra rejoindre")
    # The first request pins each referent's username to her id (a fresh store).
    notice = notice_for(mattermost, deciders["marine.purson"], asker.username)
    number = re.search(r"Demande n° (\d+)", notice["message"])
    assert number is not None
    marine, taker = request.getfixturevalue("marine_renamed")
    assert taker.id != marine.id and taker.username == "marine.purson"
    dm = taker.dm_with(mattermost.bot_user_id)
    assert "réservée aux référentes" in taker.command(mattermost, "/intra demandes", dm)
    refused = taker.command(mattermost, f"/intra accepter {number.group(1)}", dm)
    assert "Seules les référentes" in refused
    assert not is_member(mattermost, asker.id)
    # The bot restarts: its look at the referents finds the name now names someone else.
    bot.stop()
    restarted = BotProcess(bot_env, tmp_path / "bot-restarted.log").start()
    try:

        def held() -> bool:
            _status, health = restarted.health()
            part = health.get("parts", {}).get("referents", {})
            return part.get("held", {}).get("mattermost", {}).get("marine.purson", "") != ""

        wait_until(held, timeout=30)
        assert "réservée aux référentes" in taker.command(mattermost, "/intra demandes", dm)
        # Magali, whose name did not move, still decides.
        magali = deciders["magali.marcel"]
        listing = magali.command(
            mattermost, "/intra demandes", magali.dm_with(mattermost.bot_user_id)
        )
        assert "en attente" in listing
    finally:
        restarted.stop()
