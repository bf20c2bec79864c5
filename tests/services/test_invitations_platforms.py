"""One state machine, several platforms: each request is decided and announced where it
was made (Mattermost or Tchap), by the referents' accounts there."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.chat import Message, Platforms, PlatformUnavailable, Reply, User
from bot.content.loader import ContentSource
from bot.invitations.effects import NOTICE, TELL
from bot.invitations.records import ACCEPTED, ACCEPTING, DECLINED, PENDING
from bot.invitations.recovery import finish_stuck
from bot.invitations.service import InvitationService, InvitationSettings
from bot.invitations.texts import ACCEPT, REFERENTS_ONLY, RETRY_SOON
from bot.invitations.typed import TypedDecisions
from bot.outbox.store import Effect
from bot.store import Store
from tests.fakes import CAMILLE, MAGALI, NOW, FakeChatPlatform, FakeClock

MARINE_TCHAP = "@marine.purson-beta.gouv.fr:agent.dinum.tchap.gouv.fr"
MAGALI_TCHAP = "@magali.marcel-beta.gouv.fr:agent.dinum.tchap.gouv.fr"
# On Matrix the adapter gives a person's user id as their username too.
MARINE_MX = User(MARINE_TCHAP, MARINE_TCHAP)
CAMILLE_MX = User("@camille-x.gouv.fr:agent.dinum.tchap.gouv.fr", "@camille-x.gouv.fr:agent")


class Unreachable(FakeChatPlatform):
    """A platform whose server does not answer yet (its calls raise PlatformUnavailable)."""

    down = True

    async def send_direct(
        self, user_id: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        if self.down:
            raise PlatformUnavailable("not connected yet")
        return await super().send_direct(user_id, reply, key=key, retry=retry)


def with_tchap(content_dir: Path) -> Path:
    path = content_dir / "referents.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["referents"][0]["comptes"]["tchap"] = MARINE_TCHAP
    data["referents"][1]["comptes"]["tchap"] = MAGALI_TCHAP
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return content_dir


@pytest.fixture
def both(
    tmp_path: Path, content_copy: Path
) -> tuple[InvitationService, FakeChatPlatform, FakeChatPlatform, FakeClock]:
    mattermost, matrix, clock = FakeChatPlatform(), FakeChatPlatform(name="matrix"), FakeClock()
    matrix.channel_name = "#intras-prive:agent.dinum.tchap.gouv.fr"  # type: ignore[misc]
    service = InvitationService(
        ContentSource(with_tchap(content_copy)),
        Store.open(f"sqlite:///{tmp_path}/s.db"),
        Platforms(mattermost, matrix),
        InvitationSettings(referents_channel="referentes"),
        clock,
    )
    return service, mattermost, matrix, clock


def ask_on(service: InvitationService, platform: str, user: User, text: str = "") -> str:
    message = Message(f"rejoindre {text}", user, "room", platform=platform)
    return asyncio.run(service.request(message, text)).text


def test_a_tchap_request_goes_to_the_tchap_referents_by_dm_with_reactions(both) -> None:  # type: ignore[no-untyped-def]
    service, mattermost, matrix, _ = both
    assert "transmise aux référentes" in ask_on(service, "matrix", CAMILLE_MX, "Bonjour")
    # By DM to each referent's Tchap account, not in the Mattermost referents' channel.
    assert [user for user, _ in matrix.sent] == [MARINE_TCHAP, MAGALI_TCHAP]
    assert mattermost.sent == []
    invitation = service.records.open_for(CAMILLE_MX.id)
    assert invitation is not None and invitation.platform == "matrix"
    notice = matrix.sent[0][1]
    assert f"Demande n° {invitation.number}" in notice.text
    assert "réagissez avec ✅" in notice.text
    assert f"`!intra accepter {invitation.number}`" in notice.text
    assert "#intras-prive:agent.dinum.tchap.gouv.fr" in notice.text
    # Each notice's buttons are offered the platform's way, with their emoji.
    assert [[b.emoji for b in reply.buttons] for _, _, reply in matrix.choices] == [
        ["✅", "❌"],
        ["✅", "❌"],
    ]


def test_a_mattermost_request_still_uses_the_referents_channel(both) -> None:  # type: ignore[no-untyped-def]
    service, mattermost, matrix, _ = both
    ask_on(service, "mattermost", CAMILLE)
    assert [where for where, _ in mattermost.sent] == ["referentes"]
    assert matrix.sent == []
    notice = mattermost.sent[0][1]
    assert "les boutons ci-dessous, ou `/intra accepter" in notice.text


def test_a_tchap_request_is_decided_by_a_tchap_referent_only(both) -> None:  # type: ignore[no-untyped-def]
    service, mattermost, matrix, _ = both
    ask_on(service, "matrix", CAMILLE_MX)
    invitation = service.records.open_for(CAMILLE_MX.id)
    assert invitation is not None
    # Magali's Mattermost identity is not a referent of a Tchap request.
    refused = asyncio.run(service.decide(invitation.id, ACCEPT, MAGALI))
    assert not refused.applied and refused.reply.text == REFERENTS_ONLY
    decision = asyncio.run(service.decide(invitation.id, ACCEPT, MARINE_MX))
    assert decision.applied
    assert matrix.adds == 1 and mattermost.adds == 0
    assert CAMILLE_MX.id in matrix.members
    final = service.records.get(invitation.id)
    assert final is not None and final.state == ACCEPTED
    told = [reply.text for user, reply in matrix.sent if user == CAMILLE_MX.id]
    assert len(told) == 1 and "Bonne nouvelle" in told[0]
    assert sorted(matrix.updated) == sorted(post for _, post in final.notices)
    assert all("Acceptée" in reply.text for reply in matrix.updated.values())


def test_typed_commands_decide_by_number_for_referents_only(both) -> None:  # type: ignore[no-untyped-def]
    service, _, matrix, _ = both
    typed = TypedDecisions(service)
    ask_on(service, "matrix", CAMILLE_MX)
    invitation = service.records.open_for(CAMILLE_MX.id)
    assert invitation is not None and invitation.number >= 1

    def say(handler, text: str, user: User = MARINE_MX, platform: str = "matrix") -> str:  # type: ignore[no-untyped-def]
        return asyncio.run(handler(Message(text, user, "dm", platform=platform), text)).text

    assert say(typed.accept, str(invitation.number), CAMILLE_MX) == REFERENTS_ONLY
    assert "Indiquez le numéro" in say(typed.accept, "")
    assert "pas de demande n° 999" in say(typed.accept, "999")
    assert "sur Tchap" in say(typed.decline, str(invitation.number), MAGALI, "mattermost")
    reply = say(typed.decline, f"n° {invitation.number} ce salon est réservé aux intras")
    assert "a été refusée" in reply
    final = service.records.get(invitation.id)
    assert final is not None and final.state == DECLINED
    assert final.reason == "ce salon est réservé aux intras"
    told = [r.text for user, r in matrix.sent if user == CAMILLE_MX.id]
    assert len(told) == 1 and "ce salon est réservé aux intras" in told[0]
    assert "déjà été traitée" in say(typed.accept, f"#{invitation.number}")


def test_requests_are_numbered_and_listed_per_platform(both) -> None:  # type: ignore[no-untyped-def]
    service, _, _, _ = both
    ask_on(service, "mattermost", CAMILLE)
    ask_on(service, "matrix", CAMILLE_MX)
    first, second = service.records.open_requests()
    assert (first.number, second.number) == (1, 2)
    listing = asyncio.run(
        service.pending(Message("demandes", MARINE_MX, "dm", platform="matrix"), "")
    )
    assert len(listing.cards) == 1 and "n° 2" in listing.cards[0].text
    assert service.records.by_number(1) == first


def test_a_platform_not_connected_asks_to_retry_then_the_outbox_delivers(
    tmp_path: Path, content_copy: Path
) -> None:
    matrix, clock = Unreachable(name="matrix"), FakeClock()
    service = InvitationService(
        ContentSource(with_tchap(content_copy)),
        Store.open(f"sqlite:///{tmp_path}/s.db"),
        Platforms(FakeChatPlatform(), matrix),
        InvitationSettings(),
        clock,
    )
    # Tchap's platform answers `is_member`, but every message fails: the request is kept.
    assert "je réessaierai" in ask_on(service, "matrix", CAMILLE_MX)
    assert matrix.sent == []
    matrix.down = False
    clock.now += dt.timedelta(minutes=1)  # past the retry's delay
    asyncio.run(service.outbox.run_due())
    assert len(matrix.sent) == 2
    # A platform this process does not serve at all: say to retry, record nothing.
    assert ask_on(service, "slack", User("u-s", "s")) == RETRY_SOON


def test_effects_queued_before_platforms_existed_are_mattermosts(both) -> None:  # type: ignore[no-untyped-def]
    service, mattermost, matrix, _ = both
    invitation = service.records.create("u-legacy", "legacy", "", NOW)
    assert invitation is not None and invitation.platform == "mattermost"
    legacy = [
        Effect("invitation-recall:2026-11-28:@magali.marcel", TELL, {"user_id": "u-magali", "text": "x"}),
        Effect(f"invitation:{invitation.id}:notice:@magali.marcel", NOTICE, {"id": invitation.id, "username": "magali.marcel"}),
    ]  # fmt: skip
    service.outbox.store.add_all(legacy, NOW)
    asyncio.run(service.outbox.run_due())
    assert [user for user, _ in mattermost.sent] == ["u-magali", "u-magali"]
    assert matrix.sent == []


def test_a_stuck_tchap_decision_is_checked_on_tchap(both) -> None:  # type: ignore[no-untyped-def]
    service, mattermost, matrix, clock = both
    ask_on(service, "matrix", CAMILLE_MX)
    invitation = service.records.open_for(CAMILLE_MX.id)
    assert invitation is not None
    assert service.records.begin(invitation.id, True, MARINE_TCHAP, MARINE_TCHAP, clock.now)
    matrix.members.add(CAMILLE_MX.id)  # the dead holder's invite went through
    mattermost.members.add(CAMILLE_MX.id)  # and Mattermost would say so too: not asked
    clock.now += service.settings.decision_lease * 2
    assert service.records.get(invitation.id).state == ACCEPTING  # type: ignore[union-attr]
    assert asyncio.run(finish_stuck(service)) == 1
    assert service.records.get(invitation.id).state == ACCEPTED  # type: ignore[union-attr]
    mattermost.members.clear()
    ask_on(service, "matrix", User("@other:agent.dinum.tchap.gouv.fr", "@other:agent"))
    assert service.records.open_requests()[0].state == PENDING


def test_the_daily_recall_reaches_each_platforms_referents_there(both) -> None:  # type: ignore[no-untyped-def]
    service, mattermost, matrix, clock = both
    ask_on(service, "matrix", CAMILLE_MX)
    ask_on(service, "mattermost", CAMILLE)
    matrix.sent.clear()
    mattermost.sent.clear()
    clock.now += service.settings.recall_after * 2
    assert asyncio.run(service.recall()) == 2
    recalled = {
        name: [r.text for _, r in p.sent] for name, p in (("mm", mattermost), ("mx", matrix))
    }
    assert len(recalled["mx"]) == 2 and all("`!intra demandes`" in t for t in recalled["mx"])
    assert len(recalled["mm"]) == 2 and all("`/intra demandes`" in t for t in recalled["mm"])
    assert all("1 demande d'accès" in t for t in recalled["mx"] + recalled["mm"])
    assert asyncio.run(service.recall()) == 0  # once a day
