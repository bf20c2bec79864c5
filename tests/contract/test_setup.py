"""`intra-bot setup` against a local scripted server: register once, check, say each fix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.adapters.mattermost.api import MattermostApi
from bot.adapters.mattermost.setup import desired_command, run_setup
from bot.clock import utc_now
from bot.config import HttpSettings, Settings
from bot.content.loader import Content
from bot.invitations.referents import ReferentAccounts
from bot.store import Store
from tests.contract.fake_rest import FakeRest, error, serving

SETTINGS = Settings(http=HttpSettings(public_url="https://bot.example/"))
BOT = {"id": "bot-id", "username": "intra-bot", "is_bot": True}


def channel(channel_id: str, name: str) -> dict[str, Any]:
    return {"id": channel_id, "name": name, "display_name": name, "type": "O", "team_id": "team1"}


@pytest.fixture
async def world(content: Content) -> AsyncIterator[tuple[FakeRest, MattermostApi]]:
    """A server where everything the bot needs is in place, but no /intra command yet."""
    async with serving() as (fake, api):
        fake.on("GET", "/users/me", (200, BOT))
        fake.on("GET", "/teams/name/betagouv", (200, {"id": "team1", "name": "betagouv"}))
        fake.on("GET", "/commands", (200, []))
        fake.on("POST", "/commands", lambda call: (201, {**call.body, "id": "cmd1", "token": "tok123"}))  # fmt: skip
        fake.on("PUT", "/commands/cmd1", lambda call: (200, call.body))
        fake.on("GET", "/teams/team1/channels/name/domaine-intrapreneurs", (200, channel("pub", "domaine-intrapreneurs")))  # fmt: skip
        fake.on("GET", "/teams/team1/channels/name/domaine-intras-prive", (200, channel("priv", "domaine-intras-prive")))  # fmt: skip
        fake.on("GET", "/channels/pub/members/bot-id", (200, {"roles": "channel_user"}))
        fake.on("GET", "/channels/priv/members/bot-id", (200, {"roles": "channel_user channel_admin"}))  # fmt: skip
        users = [{"id": f"u-{p.comptes.mattermost}", "username": p.comptes.mattermost} for p in content.referents.referents]  # fmt: skip
        fake.on("POST", "/users/usernames", (200, users))
        yield fake, api


async def setup(api: MattermostApi, content: Content) -> tuple[bool, list[str]]:
    said: list[str] = []
    ok = await run_setup(SETTINGS, content, api, api, said.append)
    return ok, "\n".join(said).splitlines()


async def test_a_first_run_registers_the_command_and_passes(world, content: Content) -> None:  # type: ignore[no-untyped-def]
    fake, api = world
    ok, lines = await setup(api, content)
    assert ok, lines
    assert lines[:3] == [
        "ok    the bot token works (@intra-bot, a bot account)",
        "ok    team 'betagouv' exists",
        "ok    /intra command created",
    ]
    assert "      URL called by Mattermost: https://bot.example/mattermost/command" in lines
    assert '      command_tokens = ["tok123"]' in lines
    assert "ok    the bot is channel admin of ~domaine-intras-prive" in lines
    assert lines[-1] == "all checks passed"
    [created] = [c.body for c in fake.calls if c.method == "POST" and c.path == "/commands"]
    assert created == desired_command(SETTINGS, "team1", content)
    assert created["url"] == "https://bot.example/mattermost/command"


async def test_a_second_run_changes_nothing(world, content: Content) -> None:  # type: ignore[no-untyped-def]
    fake, api = world
    registered = {**desired_command(SETTINGS, "team1", content), "id": "cmd1", "token": "tok123"}
    fake.on("GET", "/commands", (200, [registered]))
    ok, lines = await setup(api, content)
    assert ok
    assert "ok    /intra command already registered, unchanged" in lines
    assert not [c for c in fake.calls if c.path.startswith("/commands") and c.method != "GET"]


async def test_a_changed_url_updates_the_command(world, content: Content) -> None:  # type: ignore[no-untyped-def]
    fake, api = world
    old = {**desired_command(SETTINGS, "team1", content), "id": "cmd1", "token": "t", "url": "http://old/"}  # fmt: skip
    deleted = {**old, "id": "cmd0", "delete_at": 1}
    fake.on("GET", "/commands", (200, [deleted, old]))
    ok, lines = await setup(api, content)
    assert ok
    assert "ok    /intra command updated (url)" in lines
    [updated] = [c.body for c in fake.calls if c.method == "PUT"]
    assert updated["url"] == "https://bot.example/mattermost/command" and updated["id"] == "cmd1"


async def test_each_missing_piece_is_a_failure_with_its_fix(world, content: Content) -> None:  # type: ignore[no-untyped-def]
    fake, api = world
    fake.on("POST", "/commands", (403, error(403, "api.context.permissions.app_error")))
    fake.on("GET", "/channels/pub/members/bot-id", (404, error(404, "app.channel.get_member.missing.app_error")))  # fmt: skip
    fake.on("GET", "/channels/priv/members/bot-id", (200, {"roles": "channel_user"}))
    fake.on("POST", "/users/usernames", (200, []))
    ok, lines = await setup(api, content)
    assert not ok
    text = "\n".join(lines)
    assert (
        "FAIL  /intra command registered\n      fix: the token used cannot manage slash commands"
        in text
    )
    assert "(403 api.context.permissions.app_error)" in text
    assert "FAIL  the bot is a member of ~domaine-intrapreneurs\n      fix: in ~domaine-intrapreneurs, type: /invite @intra-bot" in text  # fmt: skip
    assert "FAIL  the bot is channel admin of ~domaine-intras-prive" in text
    referents = len(content.referents.referents)
    assert text.count("FAIL  referent @") == referents
    assert lines[-1] == f"{3 + referents} check(s) failed"


async def test_a_missing_channel_says_how_to_create_it(world, content: Content) -> None:  # type: ignore[no-untyped-def]
    fake, api = world
    fake.on("GET", "/teams/team1/channels/name/domaine-intras-prive", (404, error(404, "app.channel.get_by_name.missing.app_error")))  # fmt: skip
    ok, lines = await setup(api, content)
    assert not ok
    assert "      fix: create the private channel ~domaine-intras-prive (or fix mattermost.private_channel) and add @intra-bot to it as channel admin" in lines  # fmt: skip


async def test_a_rejected_token_or_unknown_team_stops_early(world, content: Content) -> None:  # type: ignore[no-untyped-def]
    fake, api = world
    fake.on("GET", "/teams/name/betagouv", (404, error(404, "app.team.get_by_name.missing.app_error")))  # fmt: skip
    ok, lines = await setup(api, content)
    assert not ok and lines[-2] == "FAIL  team 'betagouv' exists"
    fake.on("GET", "/users/me", (401, error(401, "api.context.session_expired.app_error")))
    ok, lines = await setup(api, content)
    assert not ok
    assert lines == [
        "FAIL  the bot token works",
        "      fix: set mattermost.token to the bot account's access token (401)",
    ]


async def test_an_unreachable_server_is_the_only_failure_said(content: Content) -> None:
    api = MattermostApi("http://127.0.0.1:9", "token", timeout=2, max_retries=0)
    try:
        ok, lines = await setup(api, content)
    finally:
        await api.close()
    assert not ok
    assert lines[0] == "FAIL  Mattermost answers at http://127.0.0.1:8065"
    assert len(lines) == 2


async def test_setup_pins_each_deciding_referent_to_her_user_id(  # type: ignore[no-untyped-def]
    world, content: Content, tmp_path
) -> None:
    fake, api = world
    store = Store.open(f"sqlite:///{tmp_path}/s.db")
    said: list[str] = []
    assert await run_setup(SETTINGS, content, api, api, said.append, store)
    assert "      referent @marine.purson pinned to user id u-marine.purson" in said
    pins = ReferentAccounts(store, utc_now).trusted_ids("mattermost", ["marine.purson"])
    assert pins == {"marine.purson": "u-marine.purson"}
    # The username now names another account: setup, the operator's confirmation, re-pins.
    users = [{"id": "u-new", "username": "marine.purson"}, {"id": "u-m", "username": "magali.marcel"}]  # fmt: skip
    fake.on("POST", "/users/usernames", (200, users))
    assert await run_setup(SETTINGS, content, api, api, said.append, store)
    pins = ReferentAccounts(store, utc_now).trusted_ids("mattermost", ["marine.purson"])
    assert pins == {"marine.purson": "u-new"}


async def test_a_deactivated_referent_fails_the_check_and_is_not_pinned(  # type: ignore[no-untyped-def]
    world, content: Content, tmp_path
) -> None:
    fake, api = world
    users = [
        {"id": "u-marine", "username": "marine.purson", "delete_at": 1700000000000},
        {"id": "u-magali", "username": "magali.marcel"},
    ]
    fake.on("POST", "/users/usernames", (200, users))
    store = Store.open(f"sqlite:///{tmp_path}/s.db")
    said: list[str] = []
    assert not await run_setup(SETTINGS, content, api, api, said.append, store)
    assert "FAIL  referent @marine.purson exists and is an active person" in "\n".join(said), said
    pins = ReferentAccounts(store, utc_now).trusted_ids("mattermost", ["marine.purson", "magali.marcel"])  # fmt: skip
    assert pins == {"magali.marcel": "u-magali"}
