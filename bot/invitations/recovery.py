"""Decisions left half-way by a dead process: finished or released by any replica.

An « Accepter » goes through "accepting" until the channel add succeeds. When the process
holding it dies in between, the request would stay locked; this periodic job looks at every
request "accepting" for longer than the decision lease, and the channel membership says how
far the dead holder got: the person was added, so the request is accepted (and its messages
queued); not, so it is open again, as if nobody had clicked, with its buttons still live.
"""

from __future__ import annotations

import asyncio
import logging

from bot.invitations.effects import outcome_effects
from bot.invitations.records import ACCEPTED
from bot.invitations.service import InvitationService
from bot.outbox.worker import effects_keys

log = logging.getLogger(__name__)


async def finish_stuck(service: InvitationService) -> int:
    """Complete or release each stuck decision; the number looked at."""
    now = service.clock()
    records = service.records
    stuck = await asyncio.to_thread(records.stuck_accepting, now - service.settings.decision_lease)
    for invitation in stuck:
        try:
            platform = service.platforms.get(invitation.platform)
            member = await platform.is_member(invitation.requester_id)
        except Exception as error:  # its platform away or not connected: the next pass will see
            log.warning(
                "event=invitation_stuck_check_failed id=%s error=%r", invitation.id, str(error)
            )
            continue
        if member:
            effects = outcome_effects(
                invitation,
                ACCEPTED,
                service.accepted_text(invitation.decided_by, invitation.platform),
            )
            # Conditional on the same holder: two replicas doing this finish it once.
            if await asyncio.to_thread(
                records.finish_accept, invitation.id, invitation.decided_by_id, now, effects
            ):
                log.info(
                    "event=invitation_accepted id=%s by=%s user=%s recovered=true",
                    invitation.id,
                    invitation.decided_by,
                    invitation.requester_username,
                )
                await service.outbox.deliver(effects_keys(effects))
        elif await asyncio.to_thread(records.abort_accept, invitation.id, invitation.decided_by_id):
            log.warning(
                "event=invitation_released id=%s by=%s reason=abandoned_accept",
                invitation.id,
                invitation.decided_by,
            )
    return len(stuck)
