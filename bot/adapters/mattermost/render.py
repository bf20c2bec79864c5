"""The core's `Reply` as Mattermost JSON: slash-command responses and post props.

Buttons become legacy message attachments with actions. Mattermost strips the
`integration` part before sending a post to clients, so the context (with its HMAC
signature) never reaches a browser; the signature is what proves a callback genuine. It covers the button's expiry too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.adapters.mattermost.signing import BUTTON_LIFETIME, expiry, sign_button
from bot.chat import Button, Reply
from bot.clock import utc_now

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


@dataclass(frozen=True)
class SignedButtons:
    secret: bytes
    action_url: str
    lifetime: timedelta = BUTTON_LIFETIME
    clock: Callable[[], datetime] = utc_now

    def action(self, button: Button) -> dict[str, Any]:
        expires = expiry(self.clock(), self.lifetime)
        # Mattermost routes clicks on /actions/{id:[A-Za-z0-9]+}: any other character 404s.
        # The id is unique within the post because it carries the value.
        action_id = _NOT_ALNUM.sub("", f"{button.action}{button.value}")[:64] or "action"
        return {
            "id": action_id,
            "type": "button",
            "name": button.label,
            "style": button.style.value,
            "integration": {
                "url": self.action_url,
                "context": {
                    "action": button.action,
                    "value": button.value,
                    "expires": expires,
                    "sig": sign_button(self.secret, button.action, button.value, expires),
                },
            },
        }


def attachments(reply: Reply, signer: SignedButtons | None) -> list[dict[str, Any]]:
    if signer is None:
        return [{"text": card.text} for card in reply.cards]
    blocks = []
    if reply.buttons:
        blocks.append({"text": "", "actions": [signer.action(b) for b in reply.buttons]})
    for card in reply.cards:
        blocks.append({"text": card.text, "actions": [signer.action(b) for b in card.buttons]})
    return blocks


def command_response(reply: Reply, signer: SignedButtons | None = None) -> dict[str, Any]:
    # Every slash-command answer is ephemeral: only the asker typed the command, so both
    # EVERYONE and ASKER replies are kept between them and the bot.
    body: dict[str, Any] = {"response_type": "ephemeral", "text": reply.text}
    blocks = attachments(reply, signer)
    if blocks:
        body["attachments"] = blocks
    return body


def post_props(reply: Reply, signer: SignedButtons | None = None) -> dict[str, Any]:
    """Props for a post created or updated by the bot; {} clears earlier buttons."""
    blocks = attachments(reply, signer)
    return {"attachments": blocks} if blocks else {}
