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

from bot import french
from bot.answers.conversation import asker_only
from bot.chat import AddFailed, Card, ChatPlatform, Dialog, Message, Reply, User, Visibility
from bot.content.loader import ContentSource
from bot.invitations.effects import (
    InvitationEffects,
    notice_effects,
    outcome_effects,
    recall_effects,
)
from bot.invitations.records import ACCEPTED, ACCEPTING, DECLINED, Invitation, InvitationRecords
from bot.invitations.texts import (
    ACCEPT,
    LOCAL_ZONE,
    MESSAGE_LIMIT,
    REFERENTS_ONLY,
    SOMEONE,
    already_decided,
    already_pending,
    at_username,
    buttons,
    clean,
    decline_dialog,
    french_date,
    in_progress,
    notice_text,
    outcome,
)
from bot.outbox.store import Effect, OutboxStore
from bot.outbox.worker import OutboxWorker, effects_keys
from bot.store import Store
from bot.text import defuse

log = logging.getLogger(__name__)


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
    # An "accepting" decision older than this is presumed abandoned by a dead process.
    decision_lease: dt.timedelta = dt.timedelta(minutes=2)


class InvitationService:
    def __init__(
        self,
        content: ContentSource,
        store: Store,
        platform: ChatPlatform | None,
        settings: InvitationSettings,
        clock: Callable[[], dt.datetime],
        outbox: OutboxWorker | None = None,
    ) -> None:
        self.content = content
        self.store = store
        self.records = InvitationRecords(store)
        self.platform = platform
        self.settings = settings
        self.clock = clock
        self.outbox = outbox or OutboxWorker(OutboxStore(store), "invitations", clock=clock)
        InvitationEffects(self).register()

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
            again = (declined.decided_at + self.settings.cooldown).astimezone(LOCAL_ZONE)
            return Reply(
                f"Votre demande du {french_date(declined.created_at)} n'a pas été acceptée. "
                f"Vous pourrez en faire une nouvelle à partir du {french.day(again.date(), year=True)}. "
                "En attendant, vous pouvez écrire aux référentes (`/intra referents`)."
            )
        profile = await platform.profile(user.id)

        def notices(new_id: str) -> list[Effect]:
            return notice_effects(
                new_id, profile, self.settings.referents_channel, self.referent_usernames()
            )

        invitation = await asyncio.to_thread(
            self.records.create, user.id, profile.username, clean(text), now, notices
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
        # The notices are in the outbox with the request: send them now; what fails is
        # retried by the outbox worker, on this replica or another, after a crash too.
        delivered = await self.outbox.deliver(effects_keys(notices(invitation.id)))
        if not any(delivered.values()):
            log.error(
                "event=invitation_not_delivered id=%s hint='check the referents usernames'",
                invitation.id,
            )
            return Reply(
                "Votre demande est enregistrée, mais je n'ai pas pu prévenir les référentes pour "
                "l'instant : je réessaierai. Elles la verront aussi avec `/intra demandes` ; vous "
                "pouvez aussi leur écrire (`/intra referents`)."
            )
        return Reply(
            f"C'est noté ! Votre demande pour rejoindre {channel} a été transmise aux référentes "
            "des intras. Vous recevrez un message dès qu'elle sera traitée."
        )

    def notice(self, invitation: Invitation, profile: User | None = None) -> Reply:
        """The referents' message: who asks, their message quoted and defused, two buttons."""
        return Reply(notice_text(invitation, profile, self._channel()), buttons=buttons(invitation))

    # -- deciding ---------------------------------------------------------------------------

    async def decline_dialog(self, invitation_id: str, decider: User) -> Dialog | Reply:
        """What a referent fills in to decline, or why there is nothing to decline.

        The same checks as `decide`, before the window opens; `decide` checks again
        when the reason comes back (another referent may have been faster)."""
        if not self.is_referent(decider):
            return Reply(REFERENTS_ONLY, visibility=Visibility.ASKER)
        invitation = await asyncio.to_thread(self.records.get, invitation_id)
        if invitation is None or not invitation.open:
            return Reply(already_decided(invitation.decided_by if invitation else SOMEONE))
        return decline_dialog(invitation)

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
            return Decision(Reply(REFERENTS_ONLY, visibility=Visibility.ASKER), False)
        invitation = await asyncio.to_thread(self.records.get, invitation_id)
        if invitation is None:
            return Decision(
                Reply("Cette demande n'existe plus (elle a peut-être été archivée)."), False
            )
        now = self.clock()
        accept = action == ACCEPT
        reason = clean(reason)
        declined = outcome_effects(
            invitation, DECLINED, self._declined_text(decider.username, reason)
        )
        won = await asyncio.to_thread(
            self.records.begin,
            invitation_id,
            accept,
            decider.username,
            decider.id,
            now,
            reason,
            self.settings.decision_lease,
            () if accept else declined,
        )
        if not won:
            current = await asyncio.to_thread(self.records.get, invitation_id)
            who = current.decided_by if current else SOMEONE
            if current is not None and current.state == ACCEPTING:
                return Decision(Reply(in_progress(who)), False)
            return Decision(Reply(already_decided(who)), False)
        if accept:
            return await self._accept(invitation, decider)
        log.info(
            "event=invitation_declined id=%s by=%s user=%s",
            invitation.id,
            decider.username,
            invitation.requester_username,
        )
        await self.outbox.deliver(effects_keys(declined))
        return Decision(
            Reply(
                f"La demande de @{invitation.requester_username} a été refusée ; la personne est prévenue."
            ),
            True,
        )

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
        effects = outcome_effects(invitation, ACCEPTED, self.accepted_text(decider.username))
        finished = await asyncio.to_thread(
            self.records.finish_accept, invitation.id, decider.id, self.clock(), effects
        )
        log.info(
            "event=invitation_accepted id=%s by=%s user=%s recorded=%s",
            invitation.id,
            decider.username,
            invitation.requester_username,
            finished,
        )
        await self.outbox.deliver(effects_keys(effects))
        return Decision(
            Reply(f"✅ @{invitation.requester_username} a été ajouté·e à ~{self._channel()}."), True
        )

    def accepted_text(self, decider: str) -> str:
        return (
            f"🎉 Bonne nouvelle : votre demande a été acceptée par `@{decider}`. "
            f"Bienvenue dans ~{self._channel()} !"
        )

    def _declined_text(self, decider: str, reason: str) -> str:
        text = (
            f"Votre demande pour rejoindre ~{self._channel()} n'a pas été acceptée cette fois-ci."
        )
        if reason:
            text += f"\n\nLe mot de {at_username(decider)} :\n{defuse(reason, limit=MESSAGE_LIMIT)}"
        return text + "\n\nPour toute question, écrivez aux référentes (`/intra referents`)."

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
        today = now.astimezone(LOCAL_ZONE).date().isoformat()
        text = (
            f"📬 {len(old)} demande{'s' if len(old) > 1 else ''} d'accès à ~{self._channel()} "
            f"attend{'ent' if len(old) > 1 else ''} depuis plus de {self.settings.recall_after.days} jours. "
            "Tapez `/intra demandes` pour les traiter."
        )
        ids = await self.platform.user_ids(self.referent_usernames())
        # The day's keys in the outbox are the "once a day": queued once, sent until done.
        queued = await asyncio.to_thread(
            self.outbox.store.add_all, recall_effects(today, ids, text), now
        )
        if not queued:
            return 0
        await self.outbox.deliver(queued)
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
