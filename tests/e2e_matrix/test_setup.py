"""`intra-bot setup --platform matrix` against the real Synapse, rooms as its bootstrap leaves them."""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.matrix.session import stored_session
from bot.cli import main
from bot.content.loader import DEFAULT_CONTENT_DIR, load_content
from bot.store import Store
from tests.e2e_matrix.apps import referents_content
from tests.e2e_matrix.conftest import SynapseServer, bot_matrix_section
from tests.e2e_matrix.referents import MAGALI, MARINE

pytestmark = pytest.mark.e2e


def toml_value(value: object) -> str:
    return json.dumps(value)  # strings, numbers and lists of strings: JSON is valid TOML here


class Setup:
    def __init__(self, synapse: SynapseServer, home: Path) -> None:
        self.synapse = synapse
        self.store_url = f"sqlite:///{home / 'store.sqlite3'}"
        self.config = home / "config.toml"
        # The test referents' Matrix ids as their Tchap accounts (the bundled content has none).
        self.content = referents_content(synapse, home)

    def run(self, capsys: pytest.CaptureFixture[str], **matrix: object) -> tuple[int, str]:
        section = bot_matrix_section(self.synapse, **matrix)
        lines = ["[content]", f"dir = {toml_value(str(self.content))}"]
        lines += ["[store]", f"url = {toml_value(self.store_url)}", "[matrix]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in section.items()]
        self.config.write_text("\n".join(lines) + "\n")
        status = main(["setup", "--platform", "matrix", "--config", str(self.config)])
        return status, capsys.readouterr().out

    def forget_device(self) -> None:
        """The test's login made a device of the shared bot account: delete it."""
        store = Store.open(self.store_url)
        try:
            session = stored_session(store, self.synapse.bot_user_id)
        finally:
            store.close()
        if session is not None:
            user = urllib.parse.quote(self.synapse.bot_user_id, safe="")
            self.synapse.admin(
                "DELETE", f"/_synapse/admin/v2/users/{user}/devices/{session.device_id}"
            )


@pytest.fixture
def setup(synapse: SynapseServer, tmp_path: Path) -> Iterator[Setup]:
    running = Setup(synapse, tmp_path)
    try:
        yield running
    finally:
        running.forget_device()


def admin_room(synapse: SynapseServer, *, invite_bot: bool, bot_level: int) -> str:
    """A private room the admin makes, where inviting takes power level 50."""
    admin_id = synapse.env["MX_ADMIN_USER_ID"]
    body: dict[str, object] = {
        "preset": "private_chat",
        "name": f"setup test {secrets.token_hex(3)}",
        "power_level_content_override": {
            "invite": 50,
            "users": {admin_id: 100, synapse.bot_user_id: bot_level},
        },
    }
    if invite_bot:
        body["invite"] = [synapse.bot_user_id]
    created = synapse.admin("POST", "/_matrix/client/v3/createRoom", body)
    assert isinstance(created, dict)
    return str(created["room_id"])


def test_the_bootstrapped_rooms_pass_and_a_second_run_reuses_the_session(
    synapse: SynapseServer, setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = setup.run(capsys)
    assert status == 0, out
    assert "all checks passed" in out
    assert f"{synapse.bot_user_id} is a member of {synapse.public_room_alias}" in out
    assert "enough for invite (50)" in out
    assert "a referent who handles invitations has a Tchap account (2 found)" in out
    first_device = out.split("(device ", 1)[1].split(")", 1)[0]

    status, out = setup.run(capsys)
    assert status == 0, out
    assert f"(device {first_device})" in out  # no second login, no new device


def test_the_shipped_content_with_the_referents_test_tchap_ids_passes_setup(
    synapse: SynapseServer, setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shipped content, but for the Tchap ids it leaves empty: those of the referents
    the test server has, each a member of the private room where accepted intras go."""
    referents = load_content(setup.content).referents.referents
    ids = [person.comptes.tchap for person in referents if person.handles_invitations]
    assert ids == [f"@{MARINE}:{synapse.server_name}", f"@{MAGALI}:{synapse.server_name}"]
    room = urllib.parse.quote(synapse.private_room_id, safe="")
    members = synapse.admin("GET", f"/_synapse/admin/v1/rooms/{room}/members")
    assert isinstance(members, dict)
    assert set(ids) <= set(members["members"]), members
    status, out = setup.run(capsys)
    assert status == 0, out
    assert "ok    a referent who handles invitations has a Tchap account (2 found)" in out
    assert "all checks passed" in out


def test_a_bot_without_invite_power_is_told_the_exact_grant(
    synapse: SynapseServer, setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    room = admin_room(synapse, invite_bot=True, bot_level=0)
    status, out = setup.run(capsys, private_room=room)
    assert status == 1, out
    assert f"{synapse.bot_user_id} joined {room}" in out  # the invitation was accepted
    assert f"fix: grant {synapse.bot_user_id} power level 50 in {room} (needs invite=50)" in out
    assert "1 check(s) failed" in out


def test_a_bot_not_in_the_private_room_is_told_who_must_invite_it(
    synapse: SynapseServer, setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    room = admin_room(synapse, invite_bot=False, bot_level=50)
    status, out = setup.run(capsys, private_room=room)
    assert status == 1, out
    assert f"FAIL  {synapse.bot_user_id} is a member of {room}" in out
    assert f"must invite {synapse.bot_user_id} into {room}" in out


def test_a_wrong_password_is_a_failed_check_not_a_traceback(
    synapse: SynapseServer, setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = setup.run(capsys, password="not the password")
    assert status == 1, out
    assert "check matrix.password" in out
    assert "not the password" not in out


def test_no_referent_on_tchap_is_a_failed_check_with_its_fix(
    synapse: SynapseServer, setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.content = DEFAULT_CONTENT_DIR  # the bundled content: no Tchap account yet
    status, out = setup.run(capsys)
    assert status == 1, out
    assert "FAIL  a referent who handles invitations has a Tchap account (0 found)" in out
    assert "add their Matrix id as comptes.tchap in content/referents.yaml" in out
