"""Asking and listing: `rejoindre` records a request and tells the referents of its
platform; `demandes` lists the open ones for them. The decisions are the service's."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.chat import Card, Message, PlatformUnavailable, Reply, User
from bot.invitations import texts
from bot.invitations.effects import notice_effects
from bot.invitations.schema import LEGACY_PLATFORM
from bot.invitations.texts import (
    LOCAL_ZONE,
    RETRY_SOON,
    already_pending,
    buttons,
    clean,
    notice_text,
)
from bot.outbox.store import Effect
from bot.outbox.worker import effects_keys
from bot.speech import place

if TYPE_CHECKING:
    from bot.invitations.service import InvitationService

log = logging.getLogger(__name__)


async def request(service: InvitationService, name: str, user: User, text: str) -> Reply:
    """`rejoindre` on platform `name`: the checks, the record, the referents' notices."""
    platform = service.platforms.get(name)
    channel = place(platform.channel_name)
    if await platform.is_member(user.id):
        return Reply(f"Vous êtes déjà membre de {channel} : rien à demander ! 🙂")
    open_request = await asyncio.to_thread(service.records.open_for, user.id)
    if open_request is not None:
        return Reply(already_pending(open_request, channel))
    declined = await asyncio.to_thread(service.records.last_declined, user.id)
    now = service.clock()
    if declined and declined.decided_at and declined.decided_at + service.settings.cooldown > now:
        again = (declined.decided_at + service.settings.cooldown).astimezone(LOCAL_ZONE)
        return Reply(texts.declined_recently(declined, again, platform.dialect.command))
    profile = await platform.profile(user.id)
    room = service.referents_room(name)
    referents = {} if room else await service.referent_ids(name)

    def notices(new_id: str) -> list[Effect]:
        return notice_effects(new_id, profile, room, referents, name)

    invitation = await asyncio.to_thread(
        service.records.create, user.id, profile.username, clean(text), now, notices, name
    )
    if invitation is None:  # a concurrent command created it first
        current = await asyncio.to_thread(service.records.open_for, user.id)
        return Reply(
            already_pending(current, channel) if current else "Votre demande est déjà en cours."
        )
    log.info(
        "event=invitation_requested id=%s number=%s platform=%s user=%s at=%s",
        invitation.id,
        invitation.number,
        name,
        profile.username,
        now.isoformat(),
    )
    # The notices are in the outbox with the request: send them now; what fails is
    # retried by the outbox worker, on this replica or another, after a crash too.
    delivered = await service.outbox.deliver(effects_keys(notices(invitation.id)))
    if not any(delivered.values()):
        log.error(
            "event=invitation_not_delivered id=%s platform=%s hint='check the referents "
            "accounts (comptes) in content/referents.yaml'",
            invitation.id,
            name,
        )
        return Reply(texts.NOT_DELIVERED.format(command=platform.dialect.command))
    return Reply(texts.request_sent(channel))


async def pending(service: InvitationService, message: Message) -> Reply:
    """`demandes`: the open requests made on the asker's platform, for its referents."""
    name = message.platform or LEGACY_PLATFORM
    if not await service.is_referent(message.user, name):
        return Reply("La liste des demandes est réservée aux référentes des intras.")
    requests = await asyncio.to_thread(service.records.open_requests, name)
    if not requests:
        return Reply("Aucune demande d'accès en attente. 🎈")
    try:
        platform = service.platforms.get(name)
    except PlatformUnavailable:
        return Reply(RETRY_SOON)
    channel, command = platform.channel_name, platform.dialect.command
    cards = tuple(
        Card(
            notice_text(item, None, channel, short=True)
            + "\n"
            + texts.how_to_decide(item, command),
            buttons(item),
        )
        for item in requests
    )
    count = len(requests)
    return Reply(
        f"**{count} demande{'s' if count > 1 else ''} en attente**, de la plus ancienne à la plus récente :",
        cards=cards,
    )
