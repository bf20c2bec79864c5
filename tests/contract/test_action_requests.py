"""Button clicks and dialog submissions at their edges: the exact refusals, what is passed on."""

from __future__ import annotations

import logging
from typing import Any

from bot.adapters.mattermost.actions import ACTION_PATH, DIALOG_PATH
from bot.adapters.mattermost.signing import sign
from tests.contract.test_actions import SECRET, click_body, new_request, world  # noqa: F401

DECLINE_STATE_USER = "u-magali"


async def test_unreadable_json_gets_a_400_that_says_so(world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, _, _ = world
    for path in (ACTION_PATH, DIALOG_PATH):
        for raw in (b"{not json", b"[1, 2]"):
            response = await client.post(
                path, data=raw, headers={"Content-Type": "application/json"}
            )
            assert (response.status, await response.json()) == (
                400,
                {"error": "invalid JSON body"},
            )


async def test_a_context_value_that_is_not_text_is_refused(world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, service, _ = world
    invitation_id = new_request(service)
    body = click_body(invitation_id, "accept")
    body["context"]["value"] = 12
    response = await client.post(ACTION_PATH, json=body)
    assert (response.status, await response.json()) == (400, {"error": "invalid JSON body"})
    pending = service.records.get(invitation_id)
    assert pending is not None and pending.state == "pending"


async def test_forgeries_are_logged_with_the_caller(world, caplog) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, _, _ = world
    caplog.set_level(logging.WARNING, logger="bot.adapters.mattermost.actions")
    await client.post(ACTION_PATH, json=click_body("inv", "accept", sig="0" * 64))
    refused = await client.post(
        DIALOG_PATH, json={"state": "inv:bad", "user_id": DECLINE_STATE_USER}
    )
    assert (refused.status, await refused.json()) == (403, {"error": "bad signature"})
    messages = [
        r.getMessage() for r in caplog.records if r.name == "bot.adapters.mattermost.actions"
    ]
    assert messages == [
        "event=forged_action_refused remote=127.0.0.1",
        "event=forged_dialog_refused remote=127.0.0.1",
    ]


async def test_an_unknown_signed_action_is_answered_plainly(world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, _, _ = world
    response = await client.post(ACTION_PATH, json=click_body("inv", "archive"))
    assert (response.status, await response.json()) == (200, {"ephemeral_text": "Action inconnue."})


async def test_decline_without_a_trigger_id_passes_an_empty_one(world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, service, api = world
    body = click_body(new_request(service), "decline")
    del body["trigger_id"]
    await client.post(ACTION_PATH, json=body)
    assert api.dialogs[0]["trigger_id"] == ""


def dialog_body(invitation_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "type": "dialog_submission",
        "callback_id": "decline",
        "state": f"{invitation_id}:{sign(SECRET, 'dialog', invitation_id)}",
        "user_id": DECLINE_STATE_USER,
        "submission": {},
        "cancelled": False,
        **changes,
    }


async def test_a_cancelled_dialog_changes_nothing(world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, service, _ = world
    invitation_id = new_request(service)
    response = await client.post(DIALOG_PATH, json=dialog_body(invitation_id, cancelled=True))
    assert (response.status, await response.read()) == (200, b"{}")
    assert service.records.get(invitation_id).state == "pending"  # type: ignore[union-attr]


async def test_a_dialog_without_a_user_asks_to_retry(world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, service, _ = world
    body = dialog_body(new_request(service))
    del body["user_id"]
    response = await client.post(DIALOG_PATH, json=body)
    assert await response.json() == {"error": "Je n'ai pas pu vous identifier, réessayez."}


async def test_a_decline_without_a_reason_records_none(world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, service, _ = world
    for submission in ({}, {"reason": None}):
        invitation_id = new_request(service)
        response = await client.post(
            DIALOG_PATH, json=dialog_body(invitation_id, submission=submission)
        )
        assert await response.json() == {}
        declined = service.records.get(invitation_id)
        assert declined is not None and (declined.state, declined.reason) == ("declined", "")
    # a submission that is not a form is malformed: refused, and nothing is decided
    invitation_id = new_request(service)
    response = await client.post(
        DIALOG_PATH, json=dialog_body(invitation_id, submission=["not", "a", "form"])
    )
    assert (response.status, await response.json()) == (400, {"error": "invalid JSON body"})
    pending = service.records.get(invitation_id)
    assert pending is not None and pending.state == "pending"


async def test_the_dialog_state_is_the_id_then_one_colon_then_the_signature(world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, service, _ = world
    invitation_id = new_request(service)
    # A signature over « id:x » does not make « id:x:sig » a valid state for « id ».
    forged = f"{invitation_id}:x:{sign(SECRET, 'dialog', f'{invitation_id}:x')}"
    response = await client.post(DIALOG_PATH, json=dialog_body(invitation_id, state=forged))
    assert response.status == 403
