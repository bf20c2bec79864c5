"""Requests to join the private channel: request -> accepted / declined, one state machine.

`/intra rejoindre` (`!intra rejoindre` on Tchap) records the request before anything else,
with the platform it was made on, then tells that platform's referents; a button, a
reaction, a typed `accepter 12` and `/intra demandes` end in the same `decide`, which
acts on the request's own platform. Messages are in French.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.answers.conversation import asker_only
from bot.chat import (
    AddFailed,
    Dialog,
    Message,
    Platforms,
    PlatformUnavailable,
    Reply,
    User,
    Visibility,
)
from bot.content.loader import ContentSource
from bot.invitations import asking, texts, upkeep
from bot.invitations.effects import InvitationEffects, outcome_effects
from bot.invitations.records import ACCEPTED, ACCEPTING, DECLINED, Invitation, InvitationRecords
from bot.invitations.referents import ReferentAccounts, Verification
from bot.invitations.schema import LEGACY_PLATFORM
from bot.invitations.texts import (
    ACCEPT,
    REFERENTS_ONLY,
    RETRY_SOON,
    SOMEONE,
    already_decided,
    buttons,
    clean,
    decline_dialog,
    in_progress,
    notice_text,
    outcome,
)
from bot.outbox.store import OutboxStore
from bot.outbox.worker import OutboxWorker, effects_keys
from bot.speech import place
from bot.store import Store

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
    # Where the Mattermost notices go instead of DMs ("": to each referent by DM).
    referents_channel: str = ""
    # The same for the other platforms, by platform name (Matrix: a room id or alias).
    referents_rooms: Mapping[str, str] = field(default_factory=dict)
    # An "accepting" decision older than this is presumed abandoned by a dead process.
    decision_lease: dt.timedelta = dt.timedelta(minutes=2)


class InvitationService:
    def __init__(
        self,
        content: ContentSource,
        store: Store,
        platforms: Platforms,
        settings: InvitationSettings,
        clock: Callable[[], dt.datetime],
        outbox: OutboxWorker | None = None,
    ) -> None:
        self.content = content
        self.store = store
        self.records = InvitationRecords(store)
        self.platforms = platforms
        self.settings = settings
        self.clock = clock
        self.outbox = outbox or OutboxWorker(OutboxStore(store), "invitations", clock=clock)
        self.referents = ReferentAccounts(store, clock)
        self._verified: dict[str, list[str]] = {}  # platform -> the accounts last verified
        self._verifying = asyncio.Lock()
        InvitationEffects(self).register()

    # -- who decides ----------------------------------------------------------------

    def referent_usernames(self, platform: str = LEGACY_PLATFORM) -> list[str]:
        """The deciding referents' accounts on `platform`, as content/referents.yaml names them."""
        people = self.content.current.referents.referents
        accounts = (p.comptes.on(platform) for p in people if p.handles_invitations)
        return [account for account in accounts if account]

    async def referent_ids(self, platform: str = LEGACY_PLATFORM) -> dict[str, str]:
        """account -> pinned user id, for the deciding referents trusted now on `platform`
        (bot/invitations/referents.py). The first use in a process, and the first after the
        accounts changed, looks at the platform; unreachable, the pins alone are trusted."""
        accounts = self.referent_usernames(platform)
        async with self._verifying:
            if self._verified.get(platform) != accounts:
                try:
                    await self.verify_referents(platform)
                except Exception as error:  # the pins stay trusted: ids cannot change hands
                    log.warning(
                        "event=referents_not_verified platform=%s error=%s",
                        platform,
                        error.__class__.__name__,
                    )
        return self.referents.trusted_ids(platform, accounts)

    async def verify_referents(self, platform: str, *, repin: bool = False) -> Verification:
        """Resolve the referents' accounts on `platform` and compare them with the pins."""
        accounts = self.referent_usernames(platform)
        result = await self.referents.verify(self.platforms.get(platform), accounts, repin=repin)
        self._verified[platform] = accounts
        return result

    async def check_referents(self) -> None:
        """The hourly look (and the one at each connection): a username that changed hands
        holds that referent's rights within the hour."""
        for name in self.platforms.names():
            try:
                await self.verify_referents(name)
            except PlatformUnavailable:
                continue  # not connected: its connection looks again
            except Exception as error:  # the pins stay trusted; the next look tries again
                log.warning(
                    "event=referents_not_verified platform=%s error=%s",
                    name,
                    error.__class__.__name__,
                )

    async def is_referent(self, user: User, platform: str = LEGACY_PLATFORM) -> bool:
        """Whether `user` is a deciding referent on `platform`: by user id, never by name."""
        return user.id in (await self.referent_ids(platform)).values()

    def referents_room(self, platform: str) -> str:
        """Where `platform`'s notices go instead of DMs ("": to each referent by DM)."""
        if platform == LEGACY_PLATFORM:
            return self.settings.referents_channel
        return self.settings.referents_rooms.get(platform, "")

    def channel(self, platform: str) -> str:
        """The private channel of `platform` as people read it (« ~domaine-intras-prive »)."""
        return place(self.platforms.get(platform).channel_name)

    # -- /intra rejoindre -----------------------------------------------------------------

    @asker_only  # about one person's own request: their cool-down, their pending date
    async def request(self, message: Message, text: str) -> Reply:
        name = message.platform or LEGACY_PLATFORM
        try:
            return await asking.request(self, name, message.user, text)
        except PlatformUnavailable as error:
            log.warning("event=invitation_request_deferred platform=%s error=%r", name, str(error))
            return Reply(RETRY_SOON)

    def notice(self, invitation: Invitation, profile: User | None = None) -> Reply:
        """The referents' message: who asks, their message quoted and defused, the choices."""
        text = notice_text(
            invitation, profile, self.platforms.get(invitation.platform).channel_name
        )
        decide = texts.how_to_decide(
            invitation, self.platforms.dialect(invitation.platform).command
        )
        return Reply(f"{text}\n\n{decide}", buttons=buttons(invitation))

    # -- deciding ---------------------------------------------------------------------------

    async def decline_dialog(self, invitation_id: str, decider: User) -> Dialog | Reply:
        """What a referent fills in to decline, or why there is nothing to decline.

        The same checks as `decide`, before the window opens; `decide` checks again
        when the reason comes back (another referent may have been faster)."""
        invitation = await asyncio.to_thread(self.records.get, invitation_id)
        if not await self.is_referent(
            decider, invitation.platform if invitation else LEGACY_PLATFORM
        ):
            return Reply(REFERENTS_ONLY, visibility=Visibility.ASKER)
        if invitation is None or not invitation.open:
            return Reply(already_decided(invitation.decided_by if invitation else SOMEONE))
        return decline_dialog(invitation)

    async def decide(
        self, invitation_id: str, action: str, decider: User, reason: str = ""
    ) -> Decision:
        """Accept or decline; the first decision wins, any later one changes nothing.

        The decider must be a referent on the request's platform: that is where the
        person is added and where the messages go."""
        invitation = await asyncio.to_thread(self.records.get, invitation_id)
        if not await self.is_referent(
            decider, invitation.platform if invitation else LEGACY_PLATFORM
        ):
            log.warning(
                "event=invitation_decision_refused id=%s user=%s reason=not_referent",
                invitation_id,
                decider.username,
            )
            return Decision(Reply(REFERENTS_ONLY, visibility=Visibility.ASKER), False)
        if invitation is None:
            return Decision(
                Reply("Cette demande n'existe plus (elle a peut-être été archivée)."), False
            )
        now = self.clock()
        accept = action == ACCEPT
        reason = clean(reason)
        try:
            declined = outcome_effects(
                invitation, DECLINED, self.declined_text(invitation, decider.username, reason)
            )
        except PlatformUnavailable:
            return Decision(Reply(RETRY_SOON), False)
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
                f"La demande de {texts.at_username(invitation.requester_username)} a été refusée ; "
                "la personne est prévenue."
            ),
            True,
        )

    async def _accept(self, invitation: Invitation, decider: User) -> Decision:
        try:
            await self.platforms.get(invitation.platform).add_member(invitation.requester_id)
        except (AddFailed, PlatformUnavailable) as failure:
            await asyncio.to_thread(self.records.abort_accept, invitation.id, decider.id)
            advice = failure.advice if isinstance(failure, AddFailed) else RETRY_SOON
            log.error(
                "event=invitation_add_failed id=%s by=%s advice=%r",
                invitation.id,
                decider.username,
                advice,
            )
            return Decision(
                Reply(
                    f"⚠️ Je n'ai pas pu ajouter {texts.at_username(invitation.requester_username)} : "
                    f"{advice} La demande reste ouverte."
                ),
                False,
            )
        effects = outcome_effects(
            invitation, ACCEPTED, self.accepted_text(decider.username, invitation.platform)
        )
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
            Reply(
                f"✅ {texts.at_username(invitation.requester_username)} a été ajouté·e à "
                f"{self.channel(invitation.platform)}."
            ),
            True,
        )

    def accepted_text(self, decider: str, platform: str = LEGACY_PLATFORM) -> str:
        return texts.accepted_text(decider, self.channel(platform))

    def declined_text(self, invitation: Invitation, decider: str, reason: str) -> str:
        name = invitation.platform
        command = self.platforms.dialect(name).command
        return texts.declined_text(decider, reason, self.channel(name), command)

    def outcome_reply(self, invitation: Invitation) -> Reply:
        channel = self.platforms.get(invitation.platform).channel_name
        return Reply(notice_text(invitation, None, channel) + "\n\n" + outcome(invitation))

    # -- /intra demandes ------------------------------------------------------------------

    @asker_only  # names, positions and messages of the people asking
    async def pending(self, message: Message, _rest: str) -> Reply:
        return await asking.pending(self, message)

    # -- recalls and retention: bot/invitations/upkeep.py -------------------------------

    async def recall(self) -> int:
        """Remind each platform's referents of requests open for too long, once a day."""
        return await upkeep.recall(self)

    async def purge(self) -> int:
        return await upkeep.purge(self)
