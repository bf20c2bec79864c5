"""Payloads as Mattermost sends them (see ../shared/sources/mattermost-notes.md §A-C).

The same shapes are exercised against the real server in tests/e2e.
"""

from __future__ import annotations

import json
from typing import Any

BOT_ID = "botuserid0000000000000000a"
ALICE_ID = "aliceid00000000000000000aa"
OTHER_BOT_ID = "otherbot000000000000000000"


def slash_command_form(token: str, text: str = "referents") -> dict[str, str]:
    """The form fields of a custom slash command request (server/channels/app/command.go)."""
    return {
        "token": token,
        "team_id": "teamid00000000000000000000",
        "team_domain": "betagouv",
        "channel_id": "channelid00000000000000000",
        "channel_name": "domaine-intrapreneurs",
        "user_id": ALICE_ID,
        "user_name": "alice.intra",
        "command": "/intra",
        "text": text,
        "trigger_id": "dHJpZ2dlcg==",
        "root_id": "",
        "response_url": "http://127.0.0.1:8065/hooks/commands/abc",
    }


def posted_event(
    message: str,
    *,
    user_id: str = ALICE_ID,
    channel_type: str = "D",
    mentions: list[str] | None = None,
    props: dict[str, Any] | None = None,
    post_type: str = "",
    post_id: str = "postid000000000000000000aa",
    root_id: str = "",
    seq: int = 5,
) -> dict[str, Any]:
    """A `posted` websocket event: data.post is a JSON *string* (server/public/model/websocket_message.go)."""
    post = {
        "id": post_id,
        "create_at": 1764300000000,
        "user_id": user_id,
        "channel_id": "dmchannel00000000000000000",
        "root_id": root_id,
        "message": message,
        "type": post_type,
        "props": props or {},
    }
    data: dict[str, Any] = {
        "channel_display_name": "@alice.intra",
        "channel_name": f"{BOT_ID}__{ALICE_ID}",
        "channel_type": channel_type,
        "post": json.dumps(post),
        "sender_name": "@alice.intra",
        "set_online": True,
        "team_id": "",
    }
    if mentions is not None:
        data["mentions"] = json.dumps(mentions)
    return {
        "event": "posted",
        "data": data,
        "broadcast": {
            "omit_users": None,
            "user_id": "",
            "channel_id": post["channel_id"],
            "team_id": "",
        },
        "seq": seq,
    }


def hello_event(connection_id: str, user_id: str = BOT_ID) -> dict[str, Any]:
    return {
        "event": "hello",
        "data": {"connection_id": connection_id, "server_version": "11.4.0"},
        "broadcast": {"omit_users": None, "user_id": user_id, "channel_id": "", "team_id": ""},
        "seq": 0,
    }
