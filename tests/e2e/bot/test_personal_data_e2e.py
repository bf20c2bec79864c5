"""A person's rights on the real server: they ask to join the private channel, then the
operator exports what the bot keeps about them and erases it (`intra-bot export|forget`,
real processes on the store the running bot uses)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.bot.test_invitations import (
    PASSWORD,
    Person,
    click,
    is_member,
    notice_for,
    person,
)
from tests.e2e.bot_process import BotProcess, create_intra
from tests.mattermost_server import REPO_ROOT, MattermostServer
from tests.waiting import stays

pytestmark = pytest.mark.e2e


@pytest.fixture
def requester(mattermost: MattermostServer) -> Iterator[Person]:
    name = f"rgpd{uuid.uuid4().hex[:10]}"
    create_intra(
        mattermost, name, PASSWORD, first_name="Dominique", last_name="Effacée", position="Intra"
    )
    someone = person(mattermost, name)
    yield someone
    someone.client.close()


def operator(
    command: str, user: str, bot: BotProcess, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """`intra-bot <command> <user> --config FILE`, the file naming the running bot's store."""
    config = tmp_path / "operator.toml"
    config.write_text(f'[store]\nurl = "{bot.env["INTRA_BOT_STORE__URL"]}"\n', encoding="utf-8")
    env = {k: v for k, v in bot.env.items() if not k.startswith("INTRA_BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", command, user, "--config", str(config)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_request_is_exported_then_forgotten(
    mattermost: MattermostServer, bot: BotProcess, requester: Person, tmp_path: Path
) -> None:
    answer = requester.command(mattermost, '/intra rejoindre "Intra au SGMAP depuis mars"')
    assert "a été transmise aux référentes" in answer
    marine = person(mattermost, "marine.purson")
    try:
        notice = notice_for(mattermost, marine, requester.username)

        # By username: the store links it to the id the request was made with.
        exported = operator("export", requester.username, bot, tmp_path)
        assert exported.returncode == 0, exported.stderr
        data = json.loads(exported.stdout)
        assert data["person"]["ids"] == [requester.id]
        [request] = data["records"]["invitations"]
        assert request["message"] == "Intra au SGMAP depuis mars"
        assert request["state"] == "pending"
        notices = [r for r in data["records"]["outbox"] if ":notice:" in r["key"]]
        assert notices and all(n["payload"]["full_name"] == "Dominique Effacée" for n in notices)

        forgotten = operator("forget", requester.id, bot, tmp_path)
        assert forgotten.returncode == 0, forgotten.stderr
        assert "invitations: 1 open requests deleted" in forgotten.stdout.splitlines()
        # The notices about the request, and the record that they were welcomed on joining.
        assert any(r["key"] == f"welcome:{requester.id}" for r in data["records"]["outbox"])
        outbox_rows = len(data["records"]["outbox"])
        assert f"outbox: {outbox_rows} rows deleted" in forgotten.stdout, forgotten.stdout

        after = json.loads(operator("export", requester.id, bot, tmp_path).stdout)
        assert after["records"]["invitations"] == [] and after["records"]["outbox"] == []
        # The referent's old button finds no request any more: nobody is let in by it.
        assert click(marine, notice, "Accepter").status_code == 200
        stays(lambda: not is_member(mattermost, requester.id), "not let in", seconds=3)
        # The request is gone for the running bot too: the person may ask again.
        assert "a été transmise aux référentes" in requester.command(mattermost, "/intra rejoindre")
        assert bot.health()[0] == 200
    finally:
        marine.client.close()
