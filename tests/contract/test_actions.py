"""Button and dialog callbacks as Mattermost sends them (§B.2): signatures first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.mattermost.actions import ACTION_PATH, DIALOG_PATH, InvitationActions
from bot.adapters.mattermost.api import UserInfo
from bot.adapters.mattermost.render import SignedButtons, post_props
from bot.adapters.mattermost.signing import sign, sign_button
from bot.chat import Platforms
from bot.content.loader import ContentSource
from bot.invitations.service import InvitationService, InvitationSettings
from bot.store import Store
from tests.fakes import NOW, FakeChatPlatform

SECRET = b"s" * 32


class FakeApi:
    def __init__(self) -> None:
        self.dialogs: list[dict[str, Any]] = []

    async def user(self, user_id: str) -> UserInfo:
        return UserInfo(user_id, {"u-magali": "magali.marcel"}.get(user_id, "someone"))

    async def open_dialog(self, trigger_id: str, url: str, dialog: dict[str, Any]) -> None:
        self.dialogs.append({"trigger_id": trigger_id, "url": url, "dialog": dialog})


@pytest.fixture
async def world(
    tmp_path: Path,
) -> AsyncIterator[tuple[TestClient[Any, Any], InvitationService, FakeApi]]:
    service = InvitationService(
        ContentSource(),
        Store.open(f"sqlite:///{tmp_path}/s.db"),
        Platforms(FakeChatPlatform()),
        InvitationSettings(),
        lambda: NOW,
    )
    api = FakeApi()
    actions = InvitationActions(service, api, SECRET, "http://bot/mattermost/dialog")  # type: ignore[arg-type]
    app = web.Application()
    app.router.add_routes(actions.routes())
    async with TestClient(TestServer(app)) as client:
        yield client, service, api


def click_body(
    invitation_id: str, action: str, user_id: str = "u-magali", sig: str | None = None
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "user_name": "whoever",
        "channel_id": "c",
        "team_id": "",
        "post_id": "p",
        "trigger_id": "trig",
        "type": "button",
        "context": {
            "action": action,
            "value": invitation_id,
            "sig": sig if sig is not None else sign(SECRET, action, invitation_id),
        },
    }


def new_request(service: InvitationService) -> str:
    invitation = service.records.create("u-camille", "camille", "bonjour", NOW)
    assert invitation is not None
    return invitation.id


async def test_bad_signature_is_refused_before_anything(world) -> None:  # type: ignore[no-untyped-def]
    client, service, _ = world
    invitation_id = new_request(service)
    for body in (
        click_body(invitation_id, "accept", sig="0" * 64),
        click_body(invitation_id, "accept", sig=""),
        {
            **click_body(invitation_id, "accept"),
            "context": {"action": "accept", "value": invitation_id},
        },
        click_body("another", "accept", sig=sign(SECRET, "accept", invitation_id)),
    ):
        response = await client.post(ACTION_PATH, json=body)
        assert response.status == 403
    assert service.records.get(invitation_id).state == "pending"  # type: ignore[union-attr]


async def test_garbage_is_a_400(world) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = world
    for path in (ACTION_PATH, DIALOG_PATH):
        response = await client.post(
            path, data=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status == 400


DEEP = b"[" * 30_000 + b"]" * 30_000
DEEP_OBJECT = b'{"a":' * 30_000 + b"1" + b"}" * 30_000


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        DEEP_OBJECT,
        b'{"context": ' + DEEP + b"}",
        b"[]",
        b'"click"',
        b"42",
        b"null",
        b"\xff\xfe{}",
    ],
)
async def test_json_of_any_shape_is_a_400_never_a_500(world, body: bytes) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = world
    for path in (ACTION_PATH, DIALOG_PATH):
        response = await client.post(path, data=body, headers={"Content-Type": "application/json"})
        assert response.status == 400, (path, body[:40])


@pytest.mark.parametrize(
    "change",
    [
        {"context": ["accept"]},
        {"context": "accept"},
        {"user_id": 42},
        {"trigger_id": {"x": 1}},
        {"context": {"action": ["accept"], "value": "x", "sig": "y"}},
        {"context": {"action": "accept", "value": 7, "sig": "y"}},
        {"context": {"action": "accept", "value": "x", "sig": 1.5}},
    ],
)
async def test_action_fields_of_the_wrong_type_are_a_400(world, change: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    client, service, _ = world
    invitation_id = new_request(service)
    response = await client.post(
        ACTION_PATH, json={**click_body(invitation_id, "accept"), **change}
    )
    assert response.status == 400
    assert service.records.get(invitation_id).state == "pending"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "change",
    [
        {"submission": ["non"]},
        {"submission": {"reason": ["non"]}},
        {"cancelled": "yes"},
        {"state": 12},
        {"user_id": ["u-magali"]},
    ],
)
async def test_dialog_fields_of_the_wrong_type_are_a_400(world, change: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    client, service, _ = world
    invitation_id = new_request(service)
    body = {
        "user_id": "u-magali",
        "state": f"{invitation_id}:{sign(SECRET, 'dialog', invitation_id)}",
        "cancelled": False,
        "submission": {"reason": "non"},
        **change,
    }
    response = await client.post(DIALOG_PATH, json=body)
    assert response.status == 400
    assert service.records.get(invitation_id).state == "pending"  # type: ignore[union-attr]


async def test_a_non_ascii_signature_is_refused_not_a_crash(world) -> None:  # type: ignore[no-untyped-def]
    client, service, _ = world
    invitation_id = new_request(service)
    response = await client.post(
        ACTION_PATH, json=click_body(invitation_id, "accept", sig="é" * 64)
    )
    assert response.status == 403


async def test_signed_accept_by_the_referent_decides(world) -> None:  # type: ignore[no-untyped-def]
    client, service, _ = world
    invitation_id = new_request(service)
    response = await client.post(ACTION_PATH, json=click_body(invitation_id, "accept"))
    assert response.status == 200
    assert "a été ajouté·e" in (await response.json())["ephemeral_text"]
    assert service.records.get(invitation_id).state == "accepted"  # type: ignore[union-attr]


async def test_decline_opens_a_dialog_whose_state_is_signed(world) -> None:  # type: ignore[no-untyped-def]
    client, service, api = world
    invitation_id = new_request(service)
    response = await client.post(ACTION_PATH, json=click_body(invitation_id, "decline"))
    assert response.status == 200 and await response.json() == {}
    dialog = api.dialogs[0]
    assert dialog["trigger_id"] == "trig" and dialog["url"] == "http://bot/mattermost/dialog"
    state = dialog["dialog"]["state"]
    forged = await client.post(
        DIALOG_PATH, json={"user_id": "u-magali", "state": f"{invitation_id}:bad", "submission": {}}
    )
    assert forged.status == 403
    submitted = await client.post(
        DIALOG_PATH,
        json={
            "type": "dialog_submission",
            "callback_id": "decline",
            "state": state,
            "user_id": "u-magali",
            "submission": {"reason": "non"},
            "cancelled": False,
        },
    )
    assert submitted.status == 200 and await submitted.json() == {}
    invitation = service.records.get(invitation_id)
    assert invitation is not None and invitation.state == "declined" and invitation.reason == "non"
    again = await client.post(
        DIALOG_PATH,
        json={"state": state, "user_id": "u-magali", "submission": {"reason": "x"}},
    )
    assert "déjà été traitée" in (await again.json())["error"]


def test_buttons_carry_alphanumeric_unique_ids_and_a_signature() -> None:
    from bot.chat import Button, Card, Reply

    signer = SignedButtons(SECRET, "http://bot/mattermost/action")
    reply = Reply(
        "x",
        cards=(
            Card("a", (Button("Accepter", "accept", "ab-12"),)),
            Card("b", (Button("Accepter", "accept", "cd_34"),)),
        ),
    )
    actions = [a for block in post_props(reply, signer)["attachments"] for a in block["actions"]]
    assert [a["id"] for a in actions] == ["acceptab12", "acceptcd34"]
    assert all(
        a["type"] == "button" and a["integration"]["url"] == "http://bot/mattermost/action"
        for a in actions
    )
    context = actions[0]["integration"]["context"]
    assert context["sig"] == sign_button(SECRET, "accept", "ab-12", context["expires"])
