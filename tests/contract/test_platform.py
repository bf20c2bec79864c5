"""The invitations' Mattermost adapter against a local scripted server: calls and advice."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.adapters.mattermost.api import MattermostApi
from bot.adapters.mattermost.platform import MattermostPlatform
from bot.adapters.mattermost.render import SignedButtons
from bot.adapters.mattermost.signing import verify_button
from bot.chat import AddFailed, Button, Reply, User
from tests.contract.fake_rest import FakeRest, error, serving

SECRET = b"k" * 32
PRIVATE = {"id": "chan-priv", "name": "domaine-intras-prive", "display_name": "Intras", "type": "P", "team_id": "team1"}  # fmt: skip
CAMILLE = {"id": "u-camille", "username": "camille", "first_name": "Camille", "last_name": "Testeuse", "position": "Intra à la DGFiP"}  # fmt: skip


@pytest.fixture
async def world() -> AsyncIterator[tuple[FakeRest, MattermostPlatform]]:
    async with serving() as (fake, api):
        fake.on("GET", "/teams/team1/channels/name/domaine-intras-prive", (200, PRIVATE))
        platform = MattermostPlatform(
            api, "domaine-intras-prive", SignedButtons(SECRET, "http://bot/mattermost/action")
        )
        platform.bind("team1", "bot-id", "intra-bot")
        yield fake, platform


async def test_membership_is_read_from_the_private_channel(world) -> None:  # type: ignore[no-untyped-def]
    fake, platform = world
    fake.on("GET", "/channels/chan-priv/members/u-in", (200, {"roles": "channel_user"}))
    fake.on("GET", "/channels/chan-priv/members/u-out", (404, error(404, "app.channel.get_member.missing.app_error")))  # fmt: skip
    assert await platform.is_member("u-in") is True
    assert await platform.is_member("u-out") is False
    # The channel is looked up once, then remembered.
    assert fake.paths().count("/teams/team1/channels/name/domaine-intras-prive") == 1


async def test_nobody_is_a_member_of_a_channel_that_cannot_be_found(world) -> None:  # type: ignore[no-untyped-def]
    fake, platform = world
    fake.on("GET", "/teams/team1/channels/name/.*", (404, error(404, "app.channel.get_by_name.missing.app_error")))  # fmt: skip
    assert await platform.is_member("u-camille") is False


async def test_profile_carries_name_and_position(world) -> None:  # type: ignore[no-untyped-def]
    fake, platform = world
    fake.on("GET", "/users/u-camille", (200, CAMILLE))
    assert await platform.profile("u-camille") == User(
        "u-camille", "camille", "Camille Testeuse", "Intra à la DGFiP"
    )


async def test_user_ids_of_the_referents_found(world, caplog) -> None:  # type: ignore[no-untyped-def]
    fake, platform = world
    fake.on("POST", "/users/usernames", (200, [{"id": "u-magali", "username": "magali.marcel"}]))
    ids = await platform.user_ids(["magali.marcel", "marine.purson"])
    assert ids == {"magali.marcel": "u-magali"}
    assert fake.calls[-1].body == ["magali.marcel", "marine.purson"]
    assert "event=referents_not_found usernames=marine.purson" in caplog.text


async def test_a_direct_message_opens_the_dm_once_and_carries_signed_buttons(world) -> None:  # type: ignore[no-untyped-def]
    fake, platform = world
    fake.on("POST", "/channels/direct", (201, {"id": "dm-1"}))
    fake.on("POST", "/posts", lambda call: (201, {"id": f"post-{len(fake.calls)}", **call.body}))
    reply = Reply("Une demande", buttons=(Button("Accepter", "accept", "inv1"),))
    first = await platform.send_direct("u-magali", reply)
    second = await platform.send_direct("u-magali", Reply("Rappel"))
    assert first[0] == second[0] == "dm-1"
    assert fake.paths("POST").count("/channels/direct") == 1
    direct = next(c for c in fake.calls if c.path == "/channels/direct")
    assert sorted(direct.body) == ["bot-id", "u-magali"]
    posted = [c.body for c in fake.calls if c.path == "/posts"]
    assert posted[0]["channel_id"] == "dm-1" and posted[0]["message"] == "Une demande"
    [action] = posted[0]["props"]["attachments"][0]["actions"]
    context = action["integration"]["context"]
    assert verify_button(SECRET, context["sig"], "accept", "inv1", context["expires"])
    assert "props" not in posted[1]  # no buttons, no attachments


async def test_post_in_a_channel_by_name(world) -> None:  # type: ignore[no-untyped-def]
    fake, platform = world
    fake.on("GET", "/teams/team1/channels/name/referentes", (200, {**PRIVATE, "id": "chan-ref"}))
    fake.on("POST", "/posts", (201, {"id": "post-9"}))
    assert await platform.post_in("referentes", Reply("Une demande")) == ("chan-ref", "post-9")
    assert fake.calls[-1].body["channel_id"] == "chan-ref"


async def test_updating_a_post_clears_its_buttons(world) -> None:  # type: ignore[no-untyped-def]
    fake, platform = world
    fake.on("PUT", "/posts/post-1", (200, {"id": "post-1"}))
    await platform.update_post("post-1", Reply("Acceptée"))
    assert fake.calls[-1].body == {"id": "post-1", "message": "Acceptée", "props": {}}


async def test_adding_a_member(world) -> None:  # type: ignore[no-untyped-def]
    fake, platform = world
    fake.on("POST", "/channels/chan-priv/members", (201, {"user_id": "u-camille"}))
    await platform.add_member("u-camille")
    assert fake.calls[-1].body["user_id"] == "u-camille"


@pytest.mark.parametrize(
    ("status", "error_id", "advice"),
    [
        (403, "api.context.permissions.app_error", "Dans ~domaine-intras-prive, tapez `/invite @intra-bot`"),
        (404, "app.channel.get.existing.app_error", "n'est pas (ou plus) membre de ~domaine-intras-prive"),
        (400, "api.channel.add_user.to.channel.failed.deleted.team_member.app_error", "ne fait plus partie de l'équipe"),
        (400, "api.channel.add_members.error", "Mattermost a refusé l'ajout (erreur 400 api.channel.add_members.error)."),
    ],
)  # fmt: skip
async def test_a_refused_add_says_what_to_fix(
    world, status: int, error_id: str, advice: str
) -> None:  # type: ignore[no-untyped-def]
    fake, platform = world
    fake.on("POST", "/channels/chan-priv/members", (status, error(status, error_id)))
    with pytest.raises(AddFailed) as failure:
        await platform.add_member("u-camille")
    assert advice in failure.value.advice
    # The channel may have been renamed or recreated: it is looked up again next time.
    with pytest.raises(AddFailed):
        await platform.add_member("u-camille")
    assert fake.paths().count("/teams/team1/channels/name/domaine-intras-prive") == 2


async def test_an_unreachable_server_is_said_plainly() -> None:
    api = MattermostApi("http://127.0.0.1:9", "token", timeout=2, max_retries=0)  # discard port
    platform = MattermostPlatform(api, "domaine-intras-prive", SignedButtons(SECRET, "u"))
    platform.bind("team1", "bot-id", "intra-bot")
    try:
        with pytest.raises(AddFailed, match="Mattermost ne répond pas"):
            await platform.add_member("u-camille")
    finally:
        await api.close()
