"""The core's `Reply` as Mattermost JSON: slash-command responses and post props."""

from __future__ import annotations

from typing import Any

from bot.chat import Reply, Visibility


def command_response(reply: Reply, props: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "response_type": "in_channel" if reply.visibility is Visibility.IN_CHANNEL else "ephemeral",
        "text": reply.text,
    }
    if props:
        body["props"] = props
    return body


def post_props(reply: Reply) -> dict[str, Any]:
    """Props for a post created by the bot (buttons are added by the invitations adapter)."""
    return {}
