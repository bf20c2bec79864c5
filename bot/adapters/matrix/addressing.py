"""Which Matrix messages are for the bot, and what they ask. Pure functions.

In a room the bot answers `!intra <texte>` and messages that mention it through
`m.mentions`; in a direct room it answers any text. It never answers itself,
another bot's notice, an edit, or a message of a kind other than text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_ANSWERED_TYPES = ("m.text",)


@dataclass(frozen=True)
class Addressed:
    """A message for the bot: the text for the core and the thread to answer in."""

    text: str
    thread_root: str  # "" when the answer goes in the main timeline


def server_of(user_id: str) -> str:
    """« @alice:agent.tchap.gouv.fr » -> « agent.tchap.gouv.fr » ("" when malformed)."""
    if not user_id.startswith("@") or ":" not in user_id:
        return ""
    return user_id.split(":", 1)[1]


def addressed(
    content: dict[str, Any],
    *,
    event_id: str,
    sender: str,
    bot_user_id: str,
    direct: bool,
    prefix: str = "!intra",
    bot_names: tuple[str, ...] = (),
) -> Addressed | None:
    """What to answer for this `m.room.message` content, or None if it is not for the bot."""
    if sender == bot_user_id or content.get("msgtype") not in _ANSWERED_TYPES:
        return None
    relation = content.get("m.relates_to")
    relation = relation if isinstance(relation, dict) else {}
    if relation.get("rel_type") == "m.replace":  # an edit: the original was answered
        return None
    body = content.get("body")
    if not isinstance(body, str):
        return None
    body = _strip_reply_fallback(body)
    thread = str(relation.get("event_id") or "") if relation.get("rel_type") == "m.thread" else ""
    text = _command_text(body, prefix)
    if text is None and _mentions(content, bot_user_id):
        localpart = bot_user_id[1:].split(":", 1)[0]
        text = _without_mention(body, (bot_user_id, localpart, *bot_names))
    if text is None and direct:
        text = body.strip()
    if text is None:
        return None
    # In a room the answer goes in the question's thread; in a DM beside the question,
    # unless the question was itself in a thread.
    root = thread or ("" if direct else event_id)
    return Addressed(text=text, thread_root=root)


def _command_text(body: str, prefix: str) -> str | None:
    stripped = body.strip()
    if stripped.lower() == prefix.lower():
        return ""
    head, rest = stripped[: len(prefix)], stripped[len(prefix) :]
    if head.lower() == prefix.lower() and rest[:1].isspace():
        return rest.strip()
    return None


def _mentions(content: dict[str, Any], bot_user_id: str) -> bool:
    mentions = content.get("m.mentions")
    if not isinstance(mentions, dict):
        return False
    user_ids = mentions.get("user_ids")
    return isinstance(user_ids, list) and bot_user_id in user_ids


def _without_mention(body: str, names: tuple[str, ...]) -> str:
    """The question without the pill's text clients write first (« Intra-bot: aide »)."""
    text = body.strip()
    for name in sorted((n for n in names if n), key=len, reverse=True):
        for candidate in (f"@{name}", name):
            if text.lower().startswith(candidate.lower()):
                text = text[len(candidate) :].lstrip(" :,")
                return " ".join(text.split())
    return " ".join(text.split())


def _strip_reply_fallback(body: str) -> str:
    """Drop the « > <@user> quoted text » lines older clients put before a reply."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> <"):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()
