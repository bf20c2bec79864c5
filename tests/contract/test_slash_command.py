"""The /intra endpoint against the request Mattermost sends (form fields of §A.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.mattermost.http import (
    COMMAND_PATH,
    MAX_BODY,
    MAX_POST_CHARS,
    CommandEndpoint,
    build_app,
    token_is_valid,
)
from bot.answers.answer import TOO_LONG
from bot.answers.conversation import Conversation
from bot.content.loader import ContentSource
from tests.contract.payloads import slash_command_form

TOKENS = ["currenttoken00000000000000", "previoustoken0000000000000"]


async def healthy() -> tuple[bool, dict[str, object]]:
    return True, {"status": "ok"}


@pytest.fixture
async def client() -> AsyncIterator[TestClient[object, object]]:
    conversation = Conversation(ContentSource())
    app = build_app(CommandEndpoint(conversation, lambda: TOKENS), healthy)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_answers_ephemeral_json(client: TestClient[object, object]) -> None:
    response = await client.post(
        COMMAND_PATH,
        data=slash_command_form(TOKENS[0], "referents"),
        headers={"Authorization": f"Token {TOKENS[0]}"},
    )
    assert response.status == 200
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["response_type"] == "ephemeral"
    assert "marine.purson@beta.gouv.fr" in body["text"]


async def test_any_configured_token_is_accepted_during_rotation(
    client: TestClient[object, object],
) -> None:
    response = await client.post(COMMAND_PATH, data=slash_command_form(TOKENS[1], "club"))
    assert response.status == 200
    assert "premier jeudi" in (await response.json())["text"]


@pytest.mark.parametrize(
    "headers, form_token",
    [
        ({}, "forgedtoken000000000000000"),
        ({}, ""),
        ({"Authorization": "Token forgedtoken000000000000000"}, TOKENS[0]),
    ],
)
async def test_forged_or_missing_token_gets_401_and_nothing_else(
    client: TestClient[object, object], headers: dict[str, str], form_token: str
) -> None:
    form = slash_command_form(form_token)
    if not form_token:
        del form["token"]
    response = await client.post(COMMAND_PATH, data=form, headers=headers)
    assert response.status == 401
    assert await response.text() == "unauthorized"


async def test_the_form_type_is_read_whatever_its_case_and_parameters(
    client: TestClient[object, object],
) -> None:
    body = urlencode(slash_command_form(TOKENS[0], "referents"))
    for content_type in (
        "application/x-www-form-urlencoded",
        "Application/X-WWW-Form-URLEncoded; charset=UTF-8",
        " application/x-www-form-urlencoded ;charset=utf-8",
    ):
        response = await client.post(
            COMMAND_PATH, data=body.encode(), headers={"Content-Type": content_type}
        )
        assert response.status == 200, content_type
        assert "marine.purson@beta.gouv.fr" in (await response.json())["text"]
    # Another type, even with the right fields, is not a slash command: 401 without a header token.
    json_typed = await client.post(
        COMMAND_PATH, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert json_typed.status == 401


async def test_garbage_body_gets_400_never_500(client: TestClient[object, object]) -> None:
    for body, content_type in [
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b"token=x&user_id", "multipart/form-data; boundary=zzz"),
        (b"user_id=abc", "application/x-www-form-urlencoded"),
    ]:
        response = await client.post(
            COMMAND_PATH,
            data=body,
            headers={"Content-Type": content_type, "Authorization": f"Token {TOKENS[0]}"},
        )
        assert response.status == 400, body


async def test_garbage_without_token_is_401(client: TestClient[object, object]) -> None:
    response = await client.post(
        COMMAND_PATH, data=b"\xff\xfe", headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert response.status == 401


def test_token_check() -> None:
    assert token_is_valid("a" * 26, ["b" * 26, "a" * 26])
    assert not token_is_valid("a" * 26, ["b" * 26])
    assert not token_is_valid("", [""])
    assert not token_is_valid("anything", [])


async def test_oversized_body_is_refused(client: TestClient[object, object]) -> None:
    form = slash_command_form(TOKENS[0], "x" * MAX_BODY)
    response = await client.post(
        COMMAND_PATH, data=form, headers={"Authorization": f"Token {TOKENS[0]}"}
    )
    assert response.status == 413


@pytest.mark.parametrize("filler", ["x", "é", "😀"])
async def test_the_longest_post_gets_a_polite_answer_read_from_its_beginning(
    client: TestClient[object, object], filler: str
) -> None:
    # A whole post (Mattermost's MaxPostSize), even of 4-byte characters, fits the body cap.
    text = "certification " + filler * (MAX_POST_CHARS - len("certification "))
    response = await client.post(
        COMMAND_PATH,
        data=slash_command_form(TOKENS[0], text),
        headers={"Authorization": f"Token {TOKENS[0]}"},
    )
    assert response.status == 200
    reply = (await response.json())["text"]
    assert reply.startswith(TOO_LONG) and "RS6247" in reply


def test_form_parser_decodes_what_the_bot_reads() -> None:
    from bot.adapters.mattermost.http import parse_form

    form = parse_form(
        "token=t&text=qui+sont+les+r%C3%A9f%C3%A9rents+%3F&user_id=u&text=second&junk"
    )
    assert form == {"token": "t", "text": "qui sont les référents ?", "user_id": "u"}
