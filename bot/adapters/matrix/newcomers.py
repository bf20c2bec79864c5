"""Who, among the member events of a sync, has just joined the public room, or left it."""

from __future__ import annotations

from mautrix.types import Membership, MemberStateEventContent, StateEvent

# A join older than this (a long outage) is history, not someone arriving now.
WELCOME_WINDOW_MS = 24 * 3600 * 1000


def is_newcomer(evt: StateEvent, public_room: str, me: str, now_ms: float) -> bool:
    """A fresh join of the public room by someone else (not a new name or avatar)."""
    content, previous = evt.content, evt.prev_content
    return (
        str(evt.room_id) == public_room
        and isinstance(content, MemberStateEventContent)
        and content.membership == Membership.JOIN
        and evt.state_key != me
        and not (
            isinstance(previous, MemberStateEventContent) and previous.membership == Membership.JOIN
        )
        and evt.timestamp >= now_ms - WELCOME_WINDOW_MS
    )


def is_leaver(evt: StateEvent, public_room: str, me: str) -> bool:
    """Someone else, a member of the public room until now, who left it (or was removed)."""
    content, previous = evt.content, evt.prev_content
    return (
        str(evt.room_id) == public_room
        and isinstance(content, MemberStateEventContent)
        and content.membership in (Membership.LEAVE, Membership.BAN)
        and evt.state_key != me
        and isinstance(previous, MemberStateEventContent)
        and previous.membership == Membership.JOIN
    )
