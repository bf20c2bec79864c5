"""`accepter 12` and `refuser 12 [motif]`: deciding by typing, on any platform.

Where a platform has no buttons (Tchap) these are the fallback of the reactions; on
Mattermost they work too. The number is the request's short number, shown in its notice
and in `demandes`; the decision goes through the same `InvitationService.decide`.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from bot.answers.conversation import asker_only
from bot.chat import Message, Reply
from bot.invitations.schema import LEGACY_PLATFORM
from bot.invitations.texts import (
    ACCEPT,
    DECLINE,
    NO_NUMBER,
    NO_SUCH_NUMBER,
    OTHER_PLATFORM,
    REFERENTS_ONLY,
)

if TYPE_CHECKING:
    from bot.invitations.service import InvitationService

# « 12 », « #12 », « n°12 », « n° 12 », then the optional reason.
_NUMBER = re.compile(r"^(?:n°\s*|no\s+|#)?(\d{1,9})\b\s*(.*)$", re.IGNORECASE | re.DOTALL)


def parse_number(rest: str) -> tuple[int, str] | None:
    """« 12 motif », « #12 », « n° 12 » -> (12, "motif"); None without a number first."""
    parsed = _NUMBER.match(rest.strip())
    if parsed is None:
        return None
    return int(parsed.group(1)), parsed.group(2).strip()


class TypedDecisions:
    """The two commands, registered on the conversation by `app.py`."""

    def __init__(self, service: InvitationService) -> None:
        self._service = service

    @asker_only  # a decision's outcome is for the referent who typed it
    async def accept(self, message: Message, rest: str) -> Reply:
        return await self._decide(message, rest, ACCEPT, "accepter")

    @asker_only
    async def decline(self, message: Message, rest: str) -> Reply:
        return await self._decide(message, rest, DECLINE, "refuser")

    async def _decide(self, message: Message, rest: str, action: str, verb: str) -> Reply:
        service = self._service
        platform = message.platform or LEGACY_PLATFORM
        command = service.platforms.dialect(platform).command
        if not await service.is_referent(message.user, platform):
            return Reply(REFERENTS_ONLY)
        parsed = parse_number(rest)
        if parsed is None:
            return Reply(NO_NUMBER.format(command=command, verb=verb))
        number, reason = parsed
        invitation = await asyncio.to_thread(service.records.by_number, number)
        if invitation is None:
            return Reply(NO_SUCH_NUMBER.format(number=number, command=command))
        if invitation.platform != platform:
            label = service.platforms.dialect(invitation.platform).label or invitation.platform
            return Reply(OTHER_PLATFORM.format(platform=label))
        decision = await service.decide(
            invitation.id, action, message.user, reason if action == DECLINE else ""
        )
        return decision.reply
