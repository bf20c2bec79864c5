"""JSON from Mattermost that may be nested deeper than Python's parser goes.

Anyone can post a message whose props nest thousands of levels deep; `json.loads` then
raises `RecursionError`. A page of posts holding one such post must not hide the others:
`loads_page` cuts every array or object nested deeper than `MAX_DEPTH` (no post the bot
answers comes close: attachments, actions and their context are six levels down) and
leaves out the posts that were cut, naming them, so the caller can log them.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
# What stands where a too-deep value was: a string no server sends (a NUL in a key's value).
_CUT = "\x00intra-bot:too-deep"
_CUT_JSON = json.dumps(_CUT)
# A JSON string (escapes included) or a bracket: brackets inside strings are no nesting.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def loads_page(text: str | bytes) -> tuple[Any, list[str]]:
    """A page of posts (`{"order": [...], "posts": {id: post}}`) and the ids of the posts
    left out because they were nested too deeply. Raises ValueError when it is not JSON."""
    try:
        return json.loads(text), []
    except RecursionError:
        pass
    if isinstance(text, bytes):
        text = text.decode()
    data = json.loads(_cut_deep(text))
    dropped: list[str] = []
    posts = data.get("posts") if isinstance(data, dict) else None
    if isinstance(posts, dict):
        for post_id in [key for key, post in posts.items() if _holds_cut(post)]:
            del posts[post_id]
            dropped.append(post_id)
    return data, dropped


def _cut_deep(text: str, max_depth: int = MAX_DEPTH) -> str:
    """`text` with every array or object deeper than `max_depth` replaced by `_CUT`."""
    out: list[str] = []
    depth = 0
    kept_until = 0
    cut_from = -1
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            continue
        if token in "[{":
            depth += 1
            if depth == max_depth + 1:
                cut_from = match.start()
        else:
            if depth == max_depth + 1 and cut_from >= 0:
                out += [text[kept_until:cut_from], _CUT_JSON]
                kept_until = match.end()
                cut_from = -1
            depth -= 1
    if cut_from >= 0:  # never closed: what is left is cut too (and the whole is not JSON)
        out += [text[kept_until:cut_from], _CUT_JSON]
    else:
        out.append(text[kept_until:])
    return "".join(out)


def _holds_cut(value: Any) -> bool:
    """Whether `_CUT` is anywhere in `value` (walked without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if item == _CUT:
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
