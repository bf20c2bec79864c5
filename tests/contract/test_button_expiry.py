"""A request's buttons work for [http] button_days (30 by default): the expiry is in the
signed context, a click after it is answered in French that the button expired (where to
decide instead), and a button posted before buttons expired still decides an open request."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.mattermost.actions import ACTION_PATH, InvitationActions
from bot.adapters.mattermost.api import UserInfo
from bot.adapters.mattermost.render import SignedButtons
from bot.adapters.mattermost.signing import sign
from bot.chat import Button, Platforms
from bot.config import Settings
from bot.content.loader import ContentSource
from bot.invitations.service import InvitationService, InvitationSettings
from bot.invitations.texts import BUTTON_EXPIRED
from bot.store import Store
from tests.fakes import NOW, FakeChatPlatform

SECRET = b"s" * 32


class FakeApi:
    async def user(self, user_id: str) -> UserInfo:
        return UserInfo(user_id, "magali.marcel")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


World = tuple[TestClient[Any, Any], InvitationService, Clock]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = Clock()
    service = InvitationService(
        ContentSource(),
        Store.open(f"sqlite:///{tmp_path}/s.db"),
        Platforms(FakeChatPlatform()),
        InvitationSettings(),
        clock,
    )
    actions = InvitationActions(service, FakeApi(), SECRET, "http://bot/d", clock=clock)  # type: ignore[arg-type]
    app = web.Application()
    app.router.add_routes(actions.routes())
    async with TestClient(TestServer(app)) as client:
        yield client, service, clock


def posted_button(invitation_id: str, action: str = "accept", **signer: Any) -> dict[str, Any]:
    """The context of a button as the bot posts it at NOW (what Mattermost sends back)."""
    buttons = SignedButtons(SECRET, "http://bot" + ACTION_PATH, clock=lambda: NOW, **signer)
    context: dict[str, Any] = buttons.action(Button("Accepter", action, invitation_id))[
        "integration"
    ]["context"]
    return context


def click(context: dict[str, Any]) -> dict[str, Any]:
    return {"user_id": "u-magali", "trigger_id": "t", "post_id": "p", "context": context}


def new_request(service: InvitationService, who: str = "camille") -> str:
    invitation = service.records.create(f"u-{who}", who, "bonjour", NOW)
    assert invitation is not None
    return invitation.id


async def test_a_button_works_for_30_days_then_says_it_expired(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    client, service, clock = world
    late, early = new_request(service), new_request(service, "dominique")
    clock.now = NOW + dt.timedelta(days=30, seconds=1)
    with caplog.at_level(logging.INFO):
        response = await client.post(ACTION_PATH, json=click(posted_button(late)))
    assert response.status == 200
    assert (await response.json()) == {"ephemeral_text": BUTTON_EXPIRED}
    assert "`/intra demandes`" in BUTTON_EXPIRED
    assert service.records.get(late).state == "pending"  # type: ignore[union-attr]
    assert f"event=expired_action_refused action=accept id={late}" in caplog.text
    clock.now = NOW + dt.timedelta(days=29, hours=23)
    response = await client.post(ACTION_PATH, json=click(posted_button(early)))
    assert "a été ajouté·e" in (await response.json())["ephemeral_text"]
    assert service.records.get(early).state == "accepted"  # type: ignore[union-attr]


async def test_the_lifetime_is_the_configured_one(world: World) -> None:
    client, service, clock = world
    invitation_id = new_request(service)
    days = Settings.model_validate({"http": {"button_days": 7}}).http.button_days
    assert Settings().http.button_days == 30
    context = posted_button(invitation_id, lifetime=dt.timedelta(days=days))
    clock.now = NOW + dt.timedelta(days=8)
    response = await client.post(ACTION_PATH, json=click(context))
    assert (await response.json()) == {"ephemeral_text": BUTTON_EXPIRED}


async def test_an_expiry_pushed_back_breaks_the_signature(world: World) -> None:
    client, service, clock = world
    invitation_id = new_request(service)
    context = posted_button(invitation_id)
    clock.now = NOW + dt.timedelta(days=31)
    for forged in (
        {**context, "expires": str(int(context["expires"]) + 86_400 * 30)},
        {key: value for key, value in context.items() if key != "expires"},
        {**context, "expires": "99999999999999999999"},
    ):
        response = await client.post(ACTION_PATH, json=click(forged))
        assert response.status == 403
    assert service.records.get(invitation_id).state == "pending"  # type: ignore[union-attr]


async def test_a_button_posted_before_expiry_existed_still_decides_an_open_request(
    world: World,
) -> None:
    client, service, clock = world
    invitation_id = new_request(service)
    legacy = {
        "action": "accept",
        "value": invitation_id,
        "sig": sign(SECRET, "accept", invitation_id),
    }
    clock.now = NOW + dt.timedelta(days=60)
    response = await client.post(ACTION_PATH, json=click(legacy))
    assert "a été ajouté·e" in (await response.json())["ephemeral_text"]
    assert service.records.get(invitation_id).state == "accepted"  # type: ignore[union-attr]
    again = await client.post(ACTION_PATH, json=click(legacy))  # decided: nothing more
    assert service.records.get(invitation_id).state == "accepted"  # type: ignore[union-attr]
    assert "a été ajouté·e" not in (await again.json())["ephemeral_text"]
