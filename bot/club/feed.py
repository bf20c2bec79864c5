"""What is said of the club's ICS feed where others can read it: /healthz is
unauthenticated, and a private calendar's URL carries its token."""

from __future__ import annotations

from bot.club.agenda import FeedError


def feed_failure(error: Exception) -> str:
    """Why a feed could not be used, in words that reveal nothing of its address."""
    if isinstance(error, FeedError | ValueError | UnicodeError):
        return "the feed is not a usable calendar"
    status = getattr(getattr(error, "response", None), "status_code", None)
    if isinstance(status, int):
        return f"the feed's server answered HTTP {status}"
    return f"the feed could not be fetched ({error.__class__.__name__})"


def without_query(url: str) -> str:
    """A feed's URL for the log: a private calendar's token sits in its query."""
    return url.split("?", 1)[0] + ("?…" if "?" in url else "")
