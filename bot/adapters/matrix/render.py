"""The core's `Reply` as Matrix event content: an `m.notice`, HTML plus plain body.

The core writes Markdown; Matrix clients show `formatted_body` (HTML) and fall
back to `body`. The Markdown source is a readable plain body as it is. Raw HTML
in the text is escaped, never passed through, so nothing a user typed and the
core repeated can inject markup. Every reply carries an empty `m.mentions`: a
bot's answer never pings anyone, whatever names it quotes.
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt

from bot.chat import Reply

# CommonMark, raw HTML off; hard line breaks as Mattermost shows them; tables on.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table")
HTML_FORMAT = "org.matrix.custom.html"


def markdown_html(text: str) -> str:
    html: str = _MARKDOWN.render(text)
    return html.strip()


def reply_content(reply: Reply) -> dict[str, Any]:
    """The `m.room.message` content of a reply (buttons are the invitation flow's job)."""
    blocks = [reply.text, *(card.text for card in reply.cards)]
    text = "\n\n---\n\n".join(block for block in blocks if block.strip())
    return {
        "msgtype": "m.notice",
        "body": text,
        "format": HTML_FORMAT,
        "formatted_body": markdown_html(text),
        "m.mentions": {},
    }


def in_thread(content: dict[str, Any], root_id: str, reply_to: str) -> dict[str, Any]:
    """`content` posted in the thread of `root_id`, answering `reply_to`.

    `is_falling_back` keeps the reply readable as a plain reply in clients
    without threads.
    """
    return {
        **content,
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": root_id,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": reply_to},
        },
    }
