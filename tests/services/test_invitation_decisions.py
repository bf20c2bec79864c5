"""`decide` and `decline_dialog` precisely: who may decide a request (on its own platform),
what each outcome answers (exact French, exact `applied`, who sees it), what is queued
and what is logged. Store-backed, with the shared fake platforms."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import yaml

from bot.chat import Dialog, Platforms, PlatformUnavailable, Reply, User, Visibility
from bot.content.loader import ContentSource
from bot.invitations.records import ACCEPTED, ACCEPTING, DECLINED, PENDING, Invitation
from bot.invitations.service import Decision, InvitationService, InvitationSettings
from bot.invitations.texts import (
    ACCEPT,
    DECLINE,
    REFERENTS_ONLY,
    RETRY_SOON,
    SOMEONE,
    already_decided,
    decline_dialog,
    in_progress,
)
from bot.store import Store
from tests.fakes import CAMILLE, MAGALI, MARINE, NOW, FakeChatPlatform, FakeClock

MARINE_TCHAP = "@marine.purson-beta.gouv.fr:agent.dinum.tchap.gouv.fr"
# On Matrix the adapter gives a person's user id as their username too.
MARINE_MX = User(MARINE_TCHAP, MARINE_TCHAP)
CAMILLE_MX = User("@camille-x.gouv.fr:agent.dinum.tchap.gouv.fr", "@camille-x.gouv.fr:agent")
NOT_REFERENT = Reply(REFERENTS_ONLY, visibility=Visibility.ASKER)


def with_tchap(content_dir: Path) -> Path:
    """The content, with Marine's Tchap account (only she decides Tchap requests)."""
    path = content_dir / "referents.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["referents"][0]["comptes"]["tchap"] = MARINE_TCHAP
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return content_dir


def service_on(
    tmp_path: Path, content_dir: Path, *platforms: FakeChatPlatform
) -> InvitationService:
    return InvitationService(
        ContentSource(with_tchap(content_dir)),
        Store.open(f"sqlite:///{tmp_path}/s.db"),
        Platforms(*platforms),
        InvitationSettings(),
        FakeClock(),
    )


@pytest.fixture
def service(tmp_path: Path, content_copy: Path) -> InvitationService:
    return service_on(tmp_path, content_copy, FakeChatPlatform(), FakeChatPlatform(name="matrix"))


def recorded(service: InvitationService, platform: str = "mattermost") -> Invitation:
    """A pending request, as `rejoindre` records it, on `platform`."""
    requester = CAMILLE_MX if platform == "matrix" else CAMILLE
    invitation = service.records.create(
        requester.id, requester.username, "", NOW, platform=platform
    )
    assert invitation is not None
    return invitation


def decide(service: InvitationService, invitation_id: str, action: str, who: User) -> Decision:
    return asyncio.run(service.decide(invitation_id, action, who))


def dialog(service: InvitationService, invitation_id: str, who: User) -> Dialog | Reply:
    return asyncio.run(service.decline_dialog(invitation_id, who))


def state(service: InvitationService, invitation_id: str) -> str:
    invitation = service.records.get(invitation_id)
    assert invitation is not None
    return invitation.state


# -- who decides --------------------------------------------------------------------------


def test_a_referent_is_known_by_her_user_id_not_her_username(service: InvitationService) -> None:
    assert asyncio.run(service.is_referent(User("u-magali", "@magali.marcel")))
    assert asyncio.run(service.is_referent(MAGALI))
    assert not asyncio.run(service.is_referent(User("u-x", "@camille")))
    assert not asyncio.run(service.is_referent(User("attacker999", "magali.marcel")))
    invitation = recorded(service)
    decision = decide(service, invitation.id, ACCEPT, User("u-magali", "@magali.marcel"))
    assert decision.applied is True
    assert state(service, invitation.id) == ACCEPTED


def test_the_decline_window_opens_for_the_referents_of_the_requests_own_platform(
    service: InvitationService,
) -> None:
    tchap = recorded(service, "matrix")
    mattermost = recorded(service, "mattermost")
    # A referent's identity on one platform is no referent of a request made on the other.
    assert dialog(service, tchap.id, MAGALI) == NOT_REFERENT
    assert dialog(service, mattermost.id, MARINE_MX) == NOT_REFERENT
    assert dialog(service, tchap.id, MARINE_MX) == decline_dialog(tchap)
    assert dialog(service, mattermost.id, MAGALI) == decline_dialog(mattermost)
    assert dialog(service, mattermost.id, CAMILLE) == NOT_REFERENT
    assert state(service, tchap.id) == state(service, mattermost.id) == PENDING


def test_the_decline_window_does_not_open_on_a_missing_or_closed_request(
    service: InvitationService,
) -> None:
    # Archived (or never made): nobody to name; the referent check uses Mattermost's accounts.
    assert dialog(service, "no-such-id", MAGALI) == Reply("Cette demande a déjà été traitée.")
    assert dialog(service, "no-such-id", MARINE_MX) == NOT_REFERENT
    invitation = recorded(service)
    assert decide(service, invitation.id, ACCEPT, MARINE).applied is True
    assert dialog(service, invitation.id, MAGALI) == Reply(
        "Cette demande a déjà été traitée par `@marine.purson`."
    )
    assert already_decided(SOMEONE) == "Cette demande a déjà été traitée."


# -- what each decision answers -----------------------------------------------------------


def test_a_decision_by_someone_else_is_refused_to_them_only(service: InvitationService) -> None:
    invitation = recorded(service)
    assert decide(service, invitation.id, DECLINE, CAMILLE) == Decision(NOT_REFERENT, False)
    assert state(service, invitation.id) == PENDING


def test_a_decline_answers_the_referent_and_queues_the_declined_effects(
    service: InvitationService, caplog: pytest.LogCaptureFixture
) -> None:
    platform = service.platforms.get("mattermost")
    assert isinstance(platform, FakeChatPlatform)
    invitation = recorded(service)
    with caplog.at_level(logging.INFO, logger="bot.invitations.service"):
        decision = decide(service, invitation.id, DECLINE, MAGALI)
    assert decision == Decision(
        Reply("La demande de `@camille` a été refusée ; la personne est prévenue."), True
    )
    assert state(service, invitation.id) == DECLINED
    logged = [r.getMessage() for r in caplog.records if "invitation_declined" in r.getMessage()]
    assert logged == [f"event=invitation_declined id={invitation.id} by=magali.marcel user=camille"]
    # The requester's message and the notices' update, keyed by the state they tell.
    assert service.outbox.store.states(f"invitation:{invitation.id}:") == {
        f"invitation:{invitation.id}:tell:declined": "done",
        f"invitation:{invitation.id}:update:declined": "done",
    }
    told = [reply.text for user, reply in platform.sent if user == CAMILLE.id]
    assert len(told) == 1 and "n'a pas été acceptée" in told[0]


def test_an_accept_queues_no_declined_effect(
    service: InvitationService, caplog: pytest.LogCaptureFixture
) -> None:
    platform = service.platforms.get("mattermost")
    assert isinstance(platform, FakeChatPlatform)
    invitation = recorded(service)
    with caplog.at_level(logging.INFO, logger="bot.invitations.service"):
        decision = decide(service, invitation.id, ACCEPT, MAGALI)
    logged = [r.getMessage() for r in caplog.records if "invitation_accepted" in r.getMessage()]
    assert logged == [
        f"event=invitation_accepted id={invitation.id} by=magali.marcel user=camille recorded=True"
    ]
    assert decision == Decision(
        Reply("✅ `@camille` a été ajouté·e à ~domaine-intras-prive."), True
    )
    assert set(service.outbox.store.states(f"invitation:{invitation.id}:")) == {
        f"invitation:{invitation.id}:tell:accepted",
        f"invitation:{invitation.id}:update:accepted",
    }
    told = [reply.text for user, reply in platform.sent if user == CAMILLE.id]
    assert len(told) == 1 and "n'a pas été acceptée" not in told[0]


def test_a_second_decision_names_who_decided_and_changes_nothing(
    service: InvitationService,
) -> None:
    invitation = recorded(service)
    assert decide(service, invitation.id, DECLINE, MARINE).applied is True
    assert decide(service, invitation.id, ACCEPT, MAGALI) == Decision(
        Reply("Cette demande a déjà été traitée par `@marine.purson`."), False
    )
    assert state(service, invitation.id) == DECLINED


def test_a_decision_while_another_referent_is_accepting_waits_for_theirs(
    service: InvitationService,
) -> None:
    invitation = recorded(service)
    # Marine clicked « Accepter » a moment ago; her add is under way.
    assert service.records.begin(invitation.id, True, MARINE.username, MARINE.id, NOW)
    assert decide(service, invitation.id, DECLINE, MAGALI) == Decision(
        Reply(in_progress("marine.purson")), False
    )
    assert state(service, invitation.id) == ACCEPTING


def test_a_decision_on_a_platform_this_process_does_not_serve_asks_to_retry(
    tmp_path: Path, content_copy: Path
) -> None:
    # A Tchap request, read by a process serving Mattermost only (Tchap not configured).
    service = service_on(tmp_path, content_copy, FakeChatPlatform())
    # The process that serves Tchap pinned its referents in the store they share.
    tchap = FakeChatPlatform(name="matrix")
    asyncio.run(service.referents.verify(tchap, service.referent_usernames("matrix")))
    invitation = recorded(service, "matrix")
    for action in (DECLINE, ACCEPT):
        assert decide(service, invitation.id, action, MARINE_MX) == Decision(
            Reply(RETRY_SOON), False
        )
    assert state(service, invitation.id) == PENDING
    assert service.outbox.store.states(f"invitation:{invitation.id}:") == {}


class AddUnavailable(FakeChatPlatform):
    """Answers everything but the add: its server went away between the click and the add."""

    async def add_member(self, user_id: str) -> None:
        raise PlatformUnavailable("connection lost")


def test_an_add_the_platform_cannot_take_now_reopens_the_request(
    tmp_path: Path, content_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = service_on(tmp_path, content_copy, AddUnavailable())
    invitation = recorded(service)
    with caplog.at_level(logging.INFO, logger="bot.invitations.service"):
        decision = decide(service, invitation.id, ACCEPT, MAGALI)
    assert decision == Decision(
        Reply(f"⚠️ Je n'ai pas pu ajouter `@camille` : {RETRY_SOON} La demande reste ouverte."),
        False,
    )
    logged = [r.getMessage() for r in caplog.records if "invitation_add_failed" in r.getMessage()]
    assert logged == [
        f"event=invitation_add_failed id={invitation.id} by=magali.marcel advice={RETRY_SOON!r}"
    ]
    # Open again, for anyone: nobody holds it any more.
    reopened = service.records.get(invitation.id)
    assert reopened is not None and (reopened.state, reopened.decided_by) == (PENDING, "")
