"""The JSON bodies of button clicks and dialog submissions, checked before any use.

Whatever the shape (not JSON, nested 30,000 levels deep, not an object, a field of the
wrong type), a body is either one of these small types or None, which the routes turn
into a 400: never an exception, never a 500. A missing field is empty, so an unsigned
call still fails its signature check (403) like a forged one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class ActionCall:
    """A click on one of the bot's buttons (`integration.context` as the bot signed it)."""

    user_id: str
    trigger_id: str
    action: str
    value: str
    sig: str
    expires: str  # "" on a button posted before buttons expired


@dataclass(frozen=True)
class DialogSubmission:
    user_id: str
    state: str
    cancelled: bool
    submission: dict[str, Any]


class _Malformed(Exception):
    pass


async def read_object(request: web.Request) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is anything else."""
    raw = await request.read()  # beyond the app's client_max_size: 413, unread
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return body if isinstance(body, dict) else None


def action_call(body: dict[str, Any]) -> ActionCall | None:
    try:
        context = _object(body, "context")
        return ActionCall(
            user_id=_text(body, "user_id"),
            trigger_id=_text(body, "trigger_id"),
            action=_text(context, "action"),
            value=_text(context, "value"),
            sig=_text(context, "sig"),
            expires=_text(context, "expires"),
        )
    except _Malformed:
        return None


def dialog_submission(body: dict[str, Any]) -> DialogSubmission | None:
    try:
        cancelled = body.get("cancelled") or False
        if not isinstance(cancelled, bool):
            raise _Malformed
        return DialogSubmission(
            user_id=_text(body, "user_id"),
            state=_text(body, "state"),
            cancelled=cancelled,
            submission=_object(body, "submission"),
        )
    except _Malformed:
        return None


def submitted_text(submission: dict[str, Any], field: str) -> str | None:
    """A text field of a dialog (empty when left out), or None if it is not text."""
    try:
        return _text(submission, field)
    except _Malformed:
        return None


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Malformed
    return value


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Malformed
    return value
