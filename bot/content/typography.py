"""French typography at render time: the content is written with plain spaces.

Narrow no-break space (U+202F) before « ; ! ? », no-break space (U+00A0) before « : »,
inside « », and in « 16 h » and « 60 % », so a line never breaks before the mark.
Code spans, links' targets and bare URLs are left exactly as they are.
"""

from __future__ import annotations

import re

NNBSP, NBSP = "\u202f", "\u00a0"

# What must not change: `code`, the (target) of a Markdown link, a bare URL.
_PROTECTED = re.compile(r"`[^`\n]*`|\]\([^)\s]*\)|https?://\S+")
# Each rule with the strings one of which must be in the text for it to change anything:
# a substring test is much cheaper than a regular expression that finds nothing.
_RULES = (
    ((" ;", " !", " ?"), re.compile(r" +([;!?])"), NNBSP + r"\1"),
    ((" :",), re.compile(r" +:(?=\s|$)"), NBSP + ":"),
    (("« ",), re.compile(r"« +"), "«" + NBSP),
    ((" »",), re.compile(r" +»"), NBSP + "»"),
    ((" h", " %"), re.compile(r"(\d) +(h|%)(?=[\s.,;:!?)»]|$)"), r"\1" + NBSP + r"\2"),
    ((NBSP + "h ",), re.compile(r"(\d" + NBSP + r"h) +(\d)"), r"\1" + NBSP + r"\2"),
)


def french(text: str) -> str:
    """`text` with French no-break spaces; linear in its length."""
    parts: list[str] = []
    start = 0
    for protected in _PROTECTED.finditer(text):
        parts.append(_apply(text[start : protected.start()]))
        parts.append(protected.group())
        start = protected.end()
    parts.append(_apply(text[start:]))
    return "".join(parts)


def _apply(text: str) -> str:
    for needles, pattern, replacement in _RULES:
        for needle in needles:
            if needle in text:
                text = pattern.sub(replacement, text)
                break
    return text
