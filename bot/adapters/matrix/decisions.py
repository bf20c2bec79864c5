"""A referent's reaction under a request's notice -> `InvitationService.decide`.

Matrix has no buttons: the bot offers each choice as its own reaction (✅, ❌) under the
notice, and remembers which (see `MatrixPlatform.offer_choices`). A reaction with one of
those keys by a referent of Matrix is the decision; anyone else's is ignored (logged).
Each reaction is claimed in the store before it acts, like a message, so a replayed sync
(a restart, a second replica) never decides twice. The typed fallback (`!intra accepter
12`) needs nothing here: it is a command of the conversation.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mautrix.client import Client
from mautrix.errors import MatrixError
from mautrix.types import EventType, RoomID

from bot.adapters.matrix.platform import MatrixPlatform
from bot.adapters.matrix.render import in_thread, reply_content
from bot.chat import User
from bot.invitations.service import InvitationService
from bot.store import Store

log = logging.getLogger(__name__)

PLATFORM = "matrix"


def annotation(content: dict[str, Any]) -> tuple[str, str] | None:
    """(annotated event id, key) of a reaction's content, or None if it is not one."""
    relation = content.get("m.relates_to")
    if not isinstance(relation, dict) or relation.get("rel_type") != "m.annotation":
        return None
    event_id, key = relation.get("event_id"), relation.get("key")
    if not isinstance(event_id, str) or not isinstance(key, str) or not event_id or not key:
        return None
    return event_id, key


class MatrixDecisions:
    def __init__(
        self,
        client: Client,
        store: Store,
        platform: MatrixPlatform,
        invitations: InvitationService,
    ) -> None:
        self._client = client
        self._store = store
        self._platform = platform
        self._invitations = invitations

    async def on_reaction(self, sender: str, event_id: str, room_id: str, content: Any) -> None:
        if sender == str(self._client.mxid):
            return  # the bot's own offer of the choices
        raw = content.serialize() if hasattr(content, "serialize") else dict(content or {})
        target = annotation(raw)
        if target is None:
            return
        notice_id, key = target
        choice = await self._platform.choice(notice_id, key)
        if choice is None:
            return  # a reaction to anything else, or another emoji
        decider = User(id=sender, username=sender)
        if not await self._invitations.is_referent(decider, PLATFORM):
            log.warning(
                "event=matrix_reaction_ignored event_id=%s sender=%s reason=not_referent",
                event_id,
                sender,
            )
            return
        if not await asyncio.to_thread(self._store.claim_event, f"matrix:{event_id}"):
            log.info("event=matrix_reaction_already_handled event_id=%s", event_id)
            return
        action, invitation_id = choice
        log.info(
            "event=matrix_reaction_decision event_id=%s sender=%s action=%s id=%s",
            event_id,
            sender,
            action,
            invitation_id,
        )
        decision = await self._invitations.decide(invitation_id, action, decider)
        # The notice itself is edited to its final state through the outbox; this tells the
        # referent what happened (or why nothing did), under the notice.
        reply = in_thread(reply_content(decision.reply), notice_id, notice_id)
        try:
            await self._client.send_message_event(
                RoomID(room_id),
                EventType.ROOM_MESSAGE,
                reply,  # type: ignore[arg-type]  # serialized as it is
            )
        except (MatrixError, OSError, TimeoutError) as error:
            log.error("event=matrix_decision_reply_failed event_id=%s error=%r", event_id, error)
