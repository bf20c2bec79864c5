"""The embedded default: the same bot in a terminal, no server and no config needed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TextIO

from bot.answers.welcome import CONSOLE_FAREWELL, CONSOLE_GREETING
from bot.chat import Reply

QUIT_WORDS = frozenset({"quit", "exit", "quitter", "sortir", ":q"})
PROMPT = "vous> "


# A backslash before ASCII punctuation is Markdown's escape (`defuse` adds them to what
# people typed): a Markdown reader shows the character alone, and so does the terminal.
_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def render(reply: Reply) -> str:
    """A reply as plain text: Markdown is readable as is, its escapes shown as a reader
    sees them; buttons become [labels]."""
    text = _MARKDOWN_ESCAPE.sub(r"\1", reply.text)
    if reply.buttons:
        text += "\n" + "  ".join(f"[{button.label}]" for button in reply.buttons)
    return text


def run_console(
    respond: Callable[[str], Reply],
    stdin: TextIO,
    stdout: TextIO,
    *,
    interactive: bool,
) -> int:
    """Read questions line by line until `quit` or end of input; print each reply."""
    stdout.write(CONSOLE_GREETING + "\n")
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT_WORDS:
            break
        stdout.write(render(respond(text)) + "\n\n")
        stdout.flush()
    stdout.write(CONSOLE_FAREWELL + "\n")
    return 0
