"""Markdown read the way Mattermost reads it before it looks for mentions.

`rendered` resolves backslash escapes and HTML entities and leaves code spans out
(`server/public/shared/markdown`); `fires` applies the word split of
`channels/app/mention_parser_standard.go`: a word that starts with « @ » and goes on is
a mention. Shared by the unit tests of `defuse` and the end-to-end ones.
"""

from __future__ import annotations

import html
import re

_TOKEN = re.compile(r"\\[!-/:-@\[-`{-~]|`[^`]*`|&#?[A-Za-z0-9]+;|.", re.DOTALL)


def rendered(markdown: str) -> str:
    """The text Markdown leaves once escapes and character references are resolved."""
    out = []
    for token in _TOKEN.findall(markdown):
        if token.startswith("\\") and len(token) == 2:
            out.append(token[1])
        elif token.startswith("`") and len(token) > 1:
            out.append(" ")  # a code span is no text: nothing in it is a mention
        elif token.startswith("&") and len(token) > 1:
            out.append(html.unescape(token))
        else:
            out.append(token)
    return "".join(out)


def fires(markdown: str) -> list[str]:
    """The mentions Mattermost's parser would find in `markdown`'s text."""
    words = re.split(r"[^\w:.\-@]|_(?=\W)", rendered(markdown))
    found = []
    for word in words:
        word = word.lstrip(":.-_")
        if word.startswith("@") and len(word) > 1 and (word[1].isalnum() or word[1] in "._-"):
            found.append(word.lower())
    return found
