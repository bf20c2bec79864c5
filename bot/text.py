"""Text helpers shared by the core: folding, tokenizing, defusing user text."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")
# Combining marks left by NFKD: the accents of « é », « ç », « ï »…
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

# Words that carry no meaning for a search in French (and the few English ones
# people type out of habit). Kept short on purpose: a stopword can never be found.
STOPWORDS = frozenset(
    " ".join(
        (
            "a au aux avec ce ces c cela comment dans de des du d elle en est et etre il ils",
            "je j la le les l leur lui ma mais me mes moi mon ne n nos notre nous on ou par",
            "pas pour qu que quel quelle quelles quels qui s sa se ses son sont sur ta te tes",
            "toi ton tu un une vos votre vous y t m ai as avez quoi faut peut puis",
            "the of to is what how who where svp merci bonjour salut hello stp",
        )
    ).split()
)


def fold(text: str) -> str:
    """Lower-case `text` and strip its accents: « Référents » -> « referents »."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded))


def words(text: str) -> list[str]:
    """All folded words of `text`, in order."""
    return _WORD.findall(fold(text))


def keywords(text: str) -> list[str]:
    """The folded words of `text` that are worth searching for."""
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1]


_MENTION = re.compile(r"@(?=[\w.\-]+)")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|>~<])")


def inline(text: str, *, limit: int = 80) -> str:
    """User text made safe to repeat inside a sentence: one line, no mention, no Markdown."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return _MENTION.sub("@\u2060", _MARKDOWN_SPECIAL.sub(r"\\\1", text))


def defuse(text: str, *, limit: int = 500) -> str:
    """Make user text safe to quote in a post.

    No @-mention can fire (a zero-width joiner follows each « @ »), no Markdown
    can break out of the quote (special characters are escaped, each line is
    quoted), and the length is capped.
    """
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = _MENTION.sub("@\u2060", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()] or [""]
    return "\n".join(f"> {line}" for line in lines)
