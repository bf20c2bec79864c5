"""What the /intra endpoint reads from Mattermost's request, field by field, and answers.

The conversation is replaced by a recorder: these tests look at the `Message` the
endpoint builds, and at the exact answers of each refusal.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.mattermost.http import COMMAND_PATH, CommandEndpoint, build_app, parse_form
from bot.adapters.mattermost.render import SignedButtons
from bot.adapters.mattermost.signing import verify_button
from bot.chat import Button, Message, Reply, User
from tests.contract.payloads import ALICE_ID, slash_command_form

TOKEN = "currenttoken00000000000000"
SECRET = b"q" * 32


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.reply = Reply("ok")

    async def answer_command(self, message: Message) -> Reply:
        self.messages.append(message)
        return self.reply


async def healthy() -> tuple[bool, dict[str, object]]:
    return True, {}


@pytest.fixture
async def world() -> AsyncIterator[tuple[TestClient[Any, Any], Recorder]]:
    recorder = Recorder()
    signer = SignedButtons(SECRET, "http://bot/mattermost/action")
    endpoint = CommandEndpoint(recorder, lambda: [TOKEN], signer)  # type: ignore[arg-type]
    async with TestClient(TestServer(build_app(endpoint, healthy))) as client:
        yield client, recorder


async def test_every_field_the_bot_reads_reaches_the_message(world) -> None:  # type: ignore[no-untyped-def]
    client, recorder = world
    form = {**slash_command_form(TOKEN, "club ?"), "root_id": "root1"}
    response = await client.post(COMMAND_PATH, data=form)
    assert response.status == 200
    assert recorder.messages == [
        Message(
            text="club ?",
            user=User(id=ALICE_ID, username="alice.intra"),
            channel_id="channelid00000000000000000",
            thread_id="root1",
            extra={"trigger_id": "dHJpZ2dlcg=="},
            platform="mattermost",
        )
    ]


async def test_missing_optional_fields_are_empty_strings(world) -> None:  # type: ignore[no-untyped-def]
    client, recorder = world
    response = await client.post(
        COMMAND_PATH, data={"token": TOKEN, "user_id": "u1", "channel_id": "c1"}
    )
    assert response.status == 200
    assert recorder.messages == [
        Message(
            text="",
            user=User(id="u1", username=""),
            channel_id="c1",
            extra={"trigger_id": ""},
            platform="mattermost",
        )
    ]


async def test_the_answer_is_json_with_signed_buttons(world) -> None:  # type: ignore[no-untyped-def]
    client, recorder = world
    recorder.reply = Reply("Choisissez", buttons=(Button("Accepter", "accept", "inv1"),))
    response = await client.post(COMMAND_PATH, data=slash_command_form(TOKEN, "x"))
    assert response.headers["Content-Type"] == "application/json"
    body = await response.json()
    [action] = body["attachments"][0]["actions"]
    context = action["integration"]["context"]
    assert verify_button(SECRET, context["sig"], "accept", "inv1", context["expires"])


async def test_the_command_is_logged_without_its_text(world, caplog) -> None:  # type: ignore[no-untyped-def]
    client, _ = world
    caplog.set_level(logging.DEBUG, logger="bot.adapters.mattermost.http")
    await client.post(COMMAND_PATH, data=slash_command_form(TOKEN, "secret question"))
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.adapters.mattermost.http"]
    assert messages == [f"event=slash_command user_id={ALICE_ID}"]


async def test_another_authorization_scheme_falls_back_to_the_form_token(world) -> None:  # type: ignore[no-untyped-def]
    client, recorder = world
    response = await client.post(
        COMMAND_PATH,
        data=slash_command_form(TOKEN, "club"),
        headers={"Authorization": "Bearer something-else"},
    )
    assert response.status == 200 and len(recorder.messages) == 1


async def test_a_header_token_with_an_unreadable_body_is_a_400_that_says_why(world) -> None:  # type: ignore[no-untyped-def]
    client, recorder = world
    response = await client.post(
        COMMAND_PATH,
        data=b"{}",
        headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"},
    )
    assert (response.status, await response.json()) == (400, {"error": "unreadable form body"})
    assert recorder.messages == []


async def test_a_request_without_user_or_channel_is_a_400_that_says_why(world) -> None:  # type: ignore[no-untyped-def]
    client, recorder = world
    for form in ({"token": TOKEN, "user_id": "u1"}, {"token": TOKEN, "channel_id": "c1"}):
        response = await client.post(COMMAND_PATH, data=form)
        assert (response.status, await response.json()) == (
            400,
            {"error": "user_id and channel_id are required"},
        )
    assert recorder.messages == []


def test_the_form_parser_decodes_percent_and_plus_alone_or_together() -> None:
    assert parse_form("text=a%20b") == {"text": "a b"}
    assert parse_form("text=a+b") == {"text": "a b"}
    assert parse_form("text=1+%2B+1") == {"text": "1 + 1"}
    assert parse_form("text=x=y&user_id=u") == {"text": "x=y", "user_id": "u"}
    assert parse_form("text=plain") == {"text": "plain"}
