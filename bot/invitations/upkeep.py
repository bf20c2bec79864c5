"""The invitations' periodic jobs: the daily recall of old requests, and retention."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.chat import PlatformUnavailable
from bot.invitations.effects import recall_effects
from bot.invitations.records import Invitation
from bot.invitations.texts import LOCAL_ZONE, recall_text
from bot.speech import place

if TYPE_CHECKING:
    from bot.invitations.service import InvitationService

log = logging.getLogger(__name__)


async def recall(service: InvitationService) -> int:
    """Remind the referents of requests open for too long, at most once a day, on each
    platform for the requests made there; the number of requests recalled."""
    now = service.clock()
    old = [
        r
        for r in await asyncio.to_thread(service.records.open_requests)
        if r.created_at < now - service.settings.recall_after
    ]
    recalled = 0
    for name in sorted({r.platform for r in old}):
        mine = [r for r in old if r.platform == name]
        try:
            recalled += await _recall_on(service, name, mine)
        except PlatformUnavailable as error:  # the next hourly pass tries again
            log.warning("event=invitations_recall_deferred platform=%s error=%r", name, str(error))
    return recalled


async def _recall_on(service: InvitationService, name: str, old: list[Invitation]) -> int:
    platform = service.platforms.get(name)
    now = service.clock()
    today = now.astimezone(LOCAL_ZONE).date().isoformat()
    text = recall_text(
        len(old),
        place(platform.channel_name),
        service.settings.recall_after.days,
        platform.dialect.command,
    )
    ids = await service.referent_ids(name)
    # The day's keys in the outbox are the "once a day": queued once, sent until done.
    queued = await asyncio.to_thread(
        service.outbox.store.add_all, recall_effects(today, ids, text, name), now
    )
    if not queued:
        return 0
    await service.outbox.deliver(queued)
    await asyncio.to_thread(service.records.mark_recalled, [r.id for r in old], now)
    log.info(
        "event=invitations_recalled platform=%s count=%d ids=%s",
        name,
        len(old),
        ",".join(r.id for r in old),
    )
    return len(old)


async def purge(service: InvitationService) -> int:
    cutoff = service.clock() - service.settings.retention
    ids = await asyncio.to_thread(service.records.purge_decided_before, cutoff)
    for invitation_id in ids:
        log.info(
            "event=invitation_deleted id=%s reason=retention cutoff=%s",
            invitation_id,
            cutoff.isoformat(),
        )
    return len(ids)
