"""Requests to join the private channel: request -> accepted / declined, one state machine.

`/intra rejoindre` records the request before anything else, then tells the referents;
a button click and `/intra demandes` end in the same `decide`. Messages are in French.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot import french
from bot.chat import Card, Message, Reply, User, Visibility
from bot.content import ContentSource
from bot.conversation import asker_only
from bot.invitation_records import Invitation, InvitationRecords
from bot.invitation_texts import (
    ACCEPT,
    MESSAGE_LIMIT,
    PARIS,
    already_pending,
    at_username,
    buttons,
    clean,
    notice_text,
    outcome,
    when,
)
from bot.store import Store
from bot.text import defuse

log = logging.getLogger(__name__)


class AddFailed(Exception):
    """The channel add failed; `advice` tells a referent, in French, what to fix."""

    def __init__(self, advice: str) -> None:
        super().__init__(advice)
        self.advice = advice


class InvitationPlatform(Protocol):
    """What invitations need from the chat platform."""

    channel_name: str

    async def is_member(self, user_id: str) -> bool: ...
    async def profile(self, user_id: str) -> User: ...
    async def user_ids(self, usernames: list[str]) -> dict[str, str]: ...
    async def send_direct(self, user_id: str, reply: Reply) -> tuple[str, str]:
        """Send a DM; return (channel id, post id)."""
        ...

    async def post_in(self, channel_name: str, reply: Reply) -> tuple[str, str]:
        """Post in a team channel; return (channel id, post id)."""
        ...

    async def update_post(self, post_id: str, reply: Reply) -> None: ...
    async def add_member(self, user_id: str) -> None:
        """Add to the private channel; raise AddFailed with advice when it cannot."""
        ...


@dataclass(frozen=True)
class Decision:
    """What the decider sees, and whether the decision took effect."""

    reply: Reply
    applied: bool


@dataclass(frozen=True)
class InvitationSettings:
    cooldown: dt.timedelta = dt.timedelta(days=30)
    recall_after: dt.timedelta = dt.timedelta(days=3)
    retention: dt.timedelta = dt.timedelta(days=365)
    referents_channel: str = ""


class InvitationService:
    def __init__(
        self,
        content: ContentSource,
        store: Store,
        platform: InvitationPlatform | None,
        settings: InvitationSettings,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.content = content
        self.store = store
        self.records = InvitationRecords(store)
        self.platform = platform
        self.settings = settings
        self.clock = clock

    # -- who decides ----------------------------------------------------------------

    def referent_usernames(self) -> list[str]:
        return [
            p.mattermost for p in self.content.current.referents.referents if p.handles_invitations
        ]

    def is_referent(self, user: User) -> bool:
        return user.username.lstrip("@") in self.referent_usernames()

    # -- /intra rejoindre -----------------------------------------------------------------

    @asker_only  # about one person's own request: their cool-down, their pending date
    async def request(self, message: Message, text: str) -> Reply:
        platform = self.platform
        channel = f"~{platform.channel_name}" if platform else "~domaine-intras-prive"
        if platform is None:
            return Reply(f"Les demandes d'accès à {channel} ne sont possibles que sur Mattermost.")
        user = message.user
        if await platform.is_member(user.id):
            return Reply(f"Vous êtes déjà membre de {channel} : rien à demander ! 🙂")
        open_request = await asyncio.to_thread(self.records.open_for, user.id)
        if open_request is not None:
            return Reply(already_pending(open_request, channel))
        declined = await asyncio.to_thread(self.records.last_declined, user.id)
        now = self.clock()
        if declined and declined.decided_at and declined.decided_at + self.settings.cooldown > now:
            again = (declined.decided_at + self.settings.cooldown).astimezone(PARIS)
            return Reply(
                f"Votre demande du {when(declined.created_at)} n'a pas été acceptée. "
                f"Vous pourrez en faire une nouvelle à partir du {french.day(again.date(), year=True)}. "
                "En attendant, vous pouvez écrire aux référentes (`/intra referents`)."
            )
        profile = await platform.profile(user.id)
        invitation = await asyncio.to_thread(
            self.records.create, user.id, profile.username, clean(text), now
        )
        if invitation is None:  # a concurrent command created it first
            current = await asyncio.to_thread(self.records.open_for, user.id)
            return Reply(
                already_pending(current, channel) if current else "Votre demande est déjà en cours."
            )
        log.info(
            "event=invitation_requested id=%s user=%s at=%s",
            invitation.id,
            profile.username,
            now.isoformat(),
        )
        sent = await self._notify_referents(invitation, profile)
        if not sent:
            log.error(
                "event=invitation_not_delivered id=%s hint='check the referents usernames'",
                invitation.id,
            )
            return Reply(
                "Votre demande est enregistrée, mais je n'ai pas pu prévenir les référentes pour "
                "l'instant. Elles la verront avec `/intra demandes` ; vous pouvez aussi leur écrire "
                "(`/intra referents`)."
            )
        return Reply(
            f"C'est noté ! Votre demande pour rejoindre {channel} a été transmise aux référentes "
            "des intras. Vous recevrez un message dès qu'elle sera traitée."
        )

    async def _notify_referents(self, invitation: Invitation, profile: User) -> int:
        assert self.platform is not None
        if self.settings.referents_channel:
            try:
                channel_id, post_id = await self.platform.post_in(
                    self.settings.referents_channel, self.notice(invitation, profile)
                )
            except Exception as error:
                log.error(
                    "event=invitation_notice_failed id=%s channel=%s error=%r",
                    invitation.id,
                    self.settings.referents_channel,
                    str(error)[:200],
                )
                return 0
            await asyncio.to_thread(self.records.add_notice, invitation.id, channel_id, post_id)
            return 1
        ids = await self.platform.user_ids(self.referent_usernames())
        sent = 0
        for username, user_id in ids.items():
            try:
                channel_id, post_id = await self.platform.send_direct(
                    user_id, self.notice(invitation, profile)
                )
            except Exception as error:  # one unreachable referent must not stop the others
                log.error(
                    "event=invitation_notice_failed id=%s referent=%s error=%r",
                    invitation.id,
                    username,
                    str(error)[:200],
                )
                continue
            await asyncio.to_thread(self.records.add_notice, invitation.id, channel_id, post_id)
            sent += 1
        return sent

    def notice(self, invitation: Invitation, profile: User | None = None) -> Reply:
        """The referents' message: who asks, their message quoted and defused, two buttons."""
        return Reply(notice_text(invitation, profile, self._channel()), buttons=buttons(invitation))

    # -- deciding ---------------------------------------------------------------------------

    async def decide(
        self, invitation_id: str, action: str, decider: User, reason: str = ""
    ) -> Decision:
        """Accept or decline; the first decision wins, any later one changes nothing."""
        if not self.is_referent(decider):
            log.warning(
                "event=invitation_decision_refused id=%s user=%s reason=not_referent",
                invitation_id,
                decider.username,
            )
            return Decision(
                Reply(
                    "Seules les référentes des intras peuvent traiter les demandes d'accès.",
                    visibility=Visibility.ASKER,
                ),
                False,
            )
        invitation = await asyncio.to_thread(self.records.get, invitation_id)
        if invitation is None:
            return Decision(
                Reply("Cette demande n'existe plus (elle a peut-être été archivée)."), False
            )
        now = self.clock()
        won = await asyncio.to_thread(
            self.records.begin,
            invitation_id,
            action == ACCEPT,
            decider.username,
            decider.id,
            now,
            clean(reason),
        )
        if not won:
            current = await asyncio.to_thread(self.records.get, invitation_id)
            who = current.decided_by if current else "quelqu'un"
            return Decision(Reply(f"Cette demande a déjà été traitée par @{who}."), False)
        if action == ACCEPT:
            return await self._accept(invitation, decider)
        return Decision(await self._decline(invitation_id, decider), True)

    async def _accept(self, invitation: Invitation, decider: User) -> Decision:
        assert self.platform is not None
        try:
            await self.platform.add_member(invitation.requester_id)
        except AddFailed as failure:
            await asyncio.to_thread(self.records.abort_accept, invitation.id, decider.id)
            log.error(
                "event=invitation_add_failed id=%s by=%s advice=%r",
                invitation.id,
                decider.username,
                failure.advice,
            )
            return Decision(
                Reply(
                    f"⚠️ Je n'ai pas pu ajouter @{invitation.requester_username} : {failure.advice} La demande reste ouverte."
                ),
                False,
            )
        await asyncio.to_thread(self.records.finish_accept, invitation.id, decider.id, self.clock())
        log.info(
            "event=invitation_accepted id=%s by=%s user=%s",
            invitation.id,
            decider.username,
            invitation.requester_username,
        )
        await self._tell_requester(
            invitation.requester_id,
            f"🎉 Bonne nouvelle : votre demande a été acceptée par `@{decider.username}`. "
            f"Bienvenue dans ~{self._channel()} !",
        )
        done = await asyncio.to_thread(self.records.get, invitation.id)
        await self._update_notices(done or invitation)
        return Decision(
            Reply(f"✅ @{invitation.requester_username} a été ajouté·e à ~{self._channel()}."), True
        )

    async def _decline(self, invitation_id: str, decider: User) -> Reply:
        invitation = await asyncio.to_thread(self.records.get, invitation_id)
        assert invitation is not None
        log.info(
            "event=invitation_declined id=%s by=%s user=%s",
            invitation.id,
            decider.username,
            invitation.requester_username,
        )
        text = (
            f"Votre demande pour rejoindre ~{self._channel()} n'a pas été acceptée cette fois-ci."
        )
        if invitation.reason:
            text += f"\n\nLe mot de {at_username(decider.username)} :\n{defuse(invitation.reason, limit=MESSAGE_LIMIT)}"
        text += "\n\nPour toute question, écrivez aux référentes (`/intra referents`)."
        await self._tell_requester(invitation.requester_id, text)
        await self._update_notices(invitation)
        return Reply(
            f"La demande de @{invitation.requester_username} a été refusée ; la personne est prévenue."
        )

    async def _tell_requester(self, user_id: str, text: str) -> None:
        assert self.platform is not None
        try:
            await self.platform.send_direct(user_id, Reply(text))
        except Exception as error:
            log.error(
                "event=invitation_requester_dm_failed user_id=%s error=%r",
                user_id,
                str(error)[:200],
            )

    async def _update_notices(self, invitation: Invitation) -> None:
        assert self.platform is not None
        updated = Reply(
            notice_text(invitation, None, self._channel()) + "\n\n" + outcome(invitation)
        )
        for _, post_id in invitation.notices:
            try:
                await self.platform.update_post(post_id, updated)
            except Exception as error:
                log.error(
                    "event=invitation_notice_update_failed id=%s post_id=%s error=%r",
                    invitation.id,
                    post_id,
                    str(error)[:200],
                )

    def outcome_reply(self, invitation: Invitation) -> Reply:
        return Reply(notice_text(invitation, None, self._channel()) + "\n\n" + outcome(invitation))

    # -- /intra demandes, recalls, retention ---------------------------------------------

    @asker_only  # names, positions and messages of the people asking
    async def pending(self, message: Message, _rest: str) -> Reply:
        if not self.is_referent(message.user):
            return Reply("La liste des demandes est réservée aux référentes des intras.")
        requests = await asyncio.to_thread(self.records.open_requests)
        if not requests:
            return Reply("Aucune demande d'accès en attente. 🎈")
        cards = tuple(
            Card(notice_text(item, None, self._channel(), short=True), buttons(item))
            for item in requests
        )
        count = len(requests)
        return Reply(
            f"**{count} demande{'s' if count > 1 else ''} en attente**, de la plus ancienne à la plus récente :",
            cards=cards,
        )

    async def recall(self) -> int:
        """Remind the referents of requests open for too long, at most once a day."""
        if self.platform is None:
            return 0
        now = self.clock()
        old = [
            r
            for r in await asyncio.to_thread(self.records.open_requests)
            if r.created_at < now - self.settings.recall_after
        ]
        if not old:
            return 0
        today = now.astimezone(PARIS).date().isoformat()
        if not await asyncio.to_thread(
            self.store.claim_event, f"invitation-recall:{today}", now=now
        ):
            return 0
        text = (
            f"📬 {len(old)} demande{'s' if len(old) > 1 else ''} d'accès à ~{self._channel()} "
            f"attend{'ent' if len(old) > 1 else ''} depuis plus de {self.settings.recall_after.days} jours. "
            "Tapez `/intra demandes` pour les traiter."
        )
        for user_id in (await self.platform.user_ids(self.referent_usernames())).values():
            try:
                await self.platform.send_direct(user_id, Reply(text))
            except Exception as error:
                log.error(
                    "event=invitation_recall_failed user_id=%s error=%r", user_id, str(error)[:200]
                )
        await asyncio.to_thread(self.records.mark_recalled, [r.id for r in old], now)
        log.info(
            "event=invitations_recalled count=%d ids=%s", len(old), ",".join(r.id for r in old)
        )
        return len(old)

    async def purge(self) -> int:
        cutoff = self.clock() - self.settings.retention
        ids = await asyncio.to_thread(self.records.purge_decided_before, cutoff)
        for invitation_id in ids:
            log.info(
                "event=invitation_deleted id=%s reason=retention cutoff=%s",
                invitation_id,
                cutoff.isoformat(),
            )
        return len(ids)

    def _channel(self) -> str:
        return self.platform.channel_name if self.platform else "domaine-intras-prive"
