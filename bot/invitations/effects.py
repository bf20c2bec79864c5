"""The messages that follow an invitation's state changes, through the outbox.

A request queues one notice per deciding referent (or one for the referents' channel)
in the transaction that records it; a decision queues the requester's DM and the update
of every notice in the transaction that records it. The handlers below perform them,
reading the request as it is when they run: a notice sent after the decision already
shows the outcome instead of live buttons.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.chat import ChatPlatform, Reply, User
from bot.invitations.records import Invitation
from bot.invitations.schema import LEGACY_PLATFORM
from bot.outbox.store import Effect, Job
from bot.outbox.worker import Permanent

if TYPE_CHECKING:
    from bot.invitations.service import InvitationService

log = logging.getLogger(__name__)

NOTICE = "invitation.notice"
TELL = "invitation.tell"
UPDATE = "invitation.update_notices"


def notice_effects(
    invitation_id: str,
    profile: User,
    referents_channel: str,
    referents: dict[str, str],
    platform: str = LEGACY_PLATFORM,
) -> list[Effect]:
    """One notice per trusted referent (account -> pinned user id), or one in the
    referents' channel, on `platform`.

    The keys are those of the Mattermost-only days, so rows queued then still match."""
    about = {
        "id": invitation_id,
        "full_name": profile.full_name,
        "position": profile.position,
        "platform": platform,
    }
    if referents_channel:
        return [
            Effect(
                f"invitation:{invitation_id}:notice:~{referents_channel}",
                NOTICE,
                {**about, "channel": referents_channel},
            )
        ]
    return [
        Effect(
            f"invitation:{invitation_id}:notice:@{name}",
            NOTICE,
            {**about, "username": name, "user_id": user_id},
        )
        for name, user_id in referents.items()
    ]


def outcome_effects(invitation: Invitation, state: str, text: str) -> list[Effect]:
    """After a decision: tell the requester (`text`), and update every notice."""
    prefix = f"invitation:{invitation.id}"
    where = {"platform": invitation.platform}
    tell = {"user_id": invitation.requester_id, "text": text, **where}
    return [
        Effect(f"{prefix}:tell:{state}", TELL, tell),
        Effect(f"{prefix}:update:{state}", UPDATE, {"id": invitation.id, **where}),
    ]


def recall_effects(
    day: str, referents: dict[str, str], text: str, platform: str = LEGACY_PLATFORM
) -> list[Effect]:
    """The day's reminder of old open requests, one DM per referent (username -> id)."""
    return [
        Effect(
            f"invitation-recall:{day}:@{name}",
            TELL,
            {"user_id": user_id, "text": text, "platform": platform},
        )
        for name, user_id in referents.items()
    ]


class InvitationEffects:
    """Performs the three kinds of effect for `service` (registered on its outbox)."""

    def __init__(self, service: InvitationService) -> None:
        self._service = service

    def register(self) -> None:
        outbox = self._service.outbox
        outbox.register(NOTICE, self.send_notice)
        outbox.register(TELL, self.tell)
        outbox.register(UPDATE, self.update_notices)

    def _platform(self, job: Job) -> ChatPlatform:
        """The platform the effect belongs to; rows queued before there were several
        have no `platform` and were Mattermost's. Not connected yet: the outbox retries."""
        return self._service.platforms.get(str(job.payload.get("platform") or LEGACY_PLATFORM))

    async def send_notice(self, job: Job) -> None:
        platform = self._platform(job)
        records = self._service.records
        invitation = await asyncio.to_thread(records.get, str(job.payload["id"]))
        if invitation is None:  # deleted (retention) before it could be announced
            return
        profile = User(
            invitation.requester_id,
            invitation.requester_username,
            str(job.payload.get("full_name", "")),
            str(job.payload.get("position", "")),
        )
        reply = (
            self._service.notice(invitation, profile)
            if invitation.open
            else self._service.outcome_reply(invitation)
        )
        channel = str(job.payload.get("channel", ""))
        if channel:
            channel_id, post_id = await platform.post_in(
                channel, reply, key=job.key, retry=job.attempts > 1
            )
        else:
            channel_id, post_id = await platform.send_direct(
                await self._trusted_referent(job), reply, key=job.key, retry=job.attempts > 1
            )
        await asyncio.to_thread(records.add_notice, invitation.id, channel_id, post_id)
        # After recording it, so that an update after the decision reaches it whatever
        # happens here; a retry finds the same post and offers the choices again, harmlessly.
        await platform.offer_choices(channel_id, post_id, reply)
        log.info("event=invitation_notice_sent id=%s post_id=%s", invitation.id, post_id)

    async def _trusted_referent(self, job: Job) -> str:
        """The id a notice goes to: the referent's pinned id, if she is still trusted (a
        notice queued before pins carries only the username)."""
        account = str(job.payload["username"])
        trusted = (
            await self._service.referent_ids(str(job.payload.get("platform") or LEGACY_PLATFORM))
        ).get(account)
        queued = str(job.payload.get("user_id") or trusted or "")
        if trusted is None or trusted != queued:
            raise Permanent(
                f"referent {account} is not trusted now (see event=referent_held; "
                "fix content/referents.yaml, then run intra-bot setup)"
            )
        return trusted

    async def tell(self, job: Job) -> None:
        await self._platform(job).send_direct(
            str(job.payload["user_id"]),
            Reply(str(job.payload["text"])),
            key=job.key,
            retry=job.attempts > 1,
        )

    async def update_notices(self, job: Job) -> None:
        platform = self._platform(job)
        invitation = await asyncio.to_thread(self._service.records.get, str(job.payload["id"]))
        if invitation is None:
            return
        updated = self._service.outcome_reply(invitation)
        failed = 0
        for channel_id, post_id in invitation.notices:
            try:  # every notice gets its chance; an update is harmless to repeat
                await platform.update_post(post_id, updated, channel_id=channel_id)
            except Exception as error:
                failed += 1
                log.error(
                    "event=invitation_notice_update_failed id=%s post_id=%s error=%r",
                    invitation.id,
                    post_id,
                    str(error)[:200],
                )
        if failed:
            raise RuntimeError(f"{failed} notice update(s) failed")
