"""A notice with choices, Matrix's way: the bot's own reactions stand for the buttons
Matrix lacks, remembered in the store (so any replica, after any restart, knows what a
person's reaction on that notice means), and the notice is edited (`m.replace`) to its
final state. Event contents only; `MatrixPlatform` sends them."""

from __future__ import annotations

import json
from typing import Any

from bot.adapters.matrix.render import reply_content
from bot.chat import Reply
from bot.store import Store

# Store key prefix: notice event id -> {emoji: [action, value]}.
CHOICES = "matrix.choices:"


def emoji(text: str) -> str:
    """Reactions arrive with or without the emoji variation selector: compare without it."""
    return text.replace("\ufe0f", "")


def remember_choices(store: Store, post_id: str, reply: Reply) -> list[str]:
    """Keep what each emoji of `reply`'s buttons means under `post_id`; the emojis."""
    offered = {emoji(b.emoji): [b.action, b.value] for b in reply.buttons if b.emoji}
    if offered:
        store.set_value(CHOICES + post_id, json.dumps(offered, ensure_ascii=False))
    return [b.emoji for b in reply.buttons if b.emoji]


def chosen(store: Store, post_id: str, key: str) -> tuple[str, str] | None:
    """(action, value) a reaction `key` on `post_id` stands for, if the bot offered it."""
    raw = store.get_value(CHOICES + post_id)
    if not raw:
        return None
    action_value = json.loads(raw).get(emoji(key))
    return (str(action_value[0]), str(action_value[1])) if action_value else None


def reaction(post_id: str, key: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": post_id, "key": key}}


def edit(post_id: str, reply: Reply) -> dict[str, Any]:
    """The edit of `post_id` to `reply`: clients show `m.new_content` in its place."""
    new = reply_content(reply)
    return {
        **new,
        "body": "* " + new["body"],
        "m.new_content": new,
        "m.relates_to": {"rel_type": "m.replace", "event_id": post_id},
    }
