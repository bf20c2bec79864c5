"""Text helpers shared by the core: folding, tokenizing, defusing user text."""

from __future__ import annotations

import re
import unicodedata
from enum import Enum

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


# Characters Markdown (CommonMark and Mattermost's flavour) gives a meaning to, escaped
# with a backslash: links and images ([]()!), code (`), emphasis (*_~), headings (#=),
# lists (+-), tables (|), quotes (>), HTML and autolinks (<), entities (&), LaTeX ($),
# channel links (~) and the escape itself. « & » matters: Mattermost decodes
# « &#64;all » into « @all » before it looks for mentions.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|>~<=&$])")
# « 1. » or « 1) » at the start of a line would begin an ordered list.
_LIST_NUMBER = re.compile(r"^(\d+)([.)])", re.MULTILINE)
# After NFKC, the « @ » of any mention (« ＠all » and « ﹫all » fold to « @all »).
_AT = "@"
# U+2060 WORD JOINER: invisible, and not a letter, so Mattermost (server and clients)
# splits « @\u2060all » into « @ » and « all »: no mention fires, whatever the case.
_JOINER = "\u2060"
# Invisible or layout-changing characters a person could use to hide a mention from a
# filter or to reorder what a reader sees: format (zero-width, bidi), control, private
# use, unpaired surrogates (which would not even encode). Unassigned code points stay:
# they may be emoji newer than Python's tables, and « @ » is defused whatever follows.
_DROPPED_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs"})
_LINE_BREAKS = frozenset("\n\r\u2028\u2029\x0b\x0c\x85")
# Where a bare address would become a link: before every « . », « : » and « 。 » (the
# ideographic full stop Element's linkify reads as a dot) that something follows. A word
# joiner there is invisible, so « https://evil.example » reads the same, but neither
# Mattermost (`www\d{0,3}\.`, `scheme:`, emails, `host.tld/` in its marked rules) nor
# Element (linkify, which also links « evil.com ») finds a scheme, a « www. » or a
# host: each needs a letter right before the « : » or the « . », and gets U+2060.
# Not after the dot: « www.\u2060x » is still « www. » followed by non-space. Copied,
# the address keeps the joiner and does not open: that is the point.
_LINK_BREAK = re.compile("(?=[.:\u3002]\\S)")
MAX_QUOTED_LINES = 12


class Form(Enum):
    """Where defused text goes in a post."""

    QUOTE = "quote"  # a block of its own, each line quoted with « > »
    INLINE = "inline"  # inside a sentence: one line
    CODE = "code"  # inside a code span `…`: one line, no backtick


def defuse(text: str, *, limit: int = 500, form: Form = Form.QUOTE) -> str:
    """Make text a user controls safe to repeat in a post (names, positions, messages, reasons).

    Nothing fires and nothing breaks out: no « @all », « @here », « @channel » or user
    mention (in any case, behind any Unicode variant or zero-width trick), no link (bare
    addresses included, outside a code span where none is made), image,
    fence, heading, table, quote, list or HTML; at most `limit` characters (« … » when cut).
    """
    # Bounded work: what is past the cap is never normalised nor escaped.
    text = _visible(text[: 4 * limit + 64])
    if form is Form.QUOTE:
        lines = [" ".join(line.split()) for line in text.split("\n")]
        lines = [line for line in lines if line]
        if len(lines) > MAX_QUOTED_LINES:
            lines[MAX_QUOTED_LINES - 1 :] = [" ".join(lines[MAX_QUOTED_LINES - 1 :])]
        text = "\n".join(lines)
    else:
        text = " ".join(text.split())
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    if form is Form.CODE:
        # Inside a code span nothing is Markdown and nothing is a mention; only a
        # backtick could close the span early.
        return text.replace("`", "\u02bc").replace(_AT, _AT + _JOINER)
    text = _LINK_BREAK.sub(_JOINER, text)
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = _LIST_NUMBER.sub(r"\1\\\2", text)
    text = text.replace(_AT, _AT + _JOINER)
    if form is Form.INLINE:
        return text
    return "\n".join(f"> {line}" for line in text.split("\n")) if text else "> "


def inline(text: str, *, limit: int = 80) -> str:
    """`defuse` for a value repeated inside a sentence (one line, capped at `limit`)."""
    return defuse(text, limit=limit, form=Form.INLINE)


def _visible(text: str) -> str:
    """`text` in NFKC with its invisible characters dropped and its line breaks unified."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii() and text.isprintable():
        return text
    kept = []
    for char in text:
        if char in _LINE_BREAKS:
            kept.append("\n")
        elif char == "\t":
            kept.append(" ")
        elif unicodedata.category(char) not in _DROPPED_CATEGORIES:
            kept.append(char)
    return "".join(kept)
