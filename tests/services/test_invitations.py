"""The invitation state machine with a recording platform: fast, no server."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path

import pytest
import yaml

from bot.chat import Message, Platforms, User
from bot.content.loader import ContentSource
from bot.invitations.records import ACCEPTED, DECLINED, PENDING
from bot.invitations.service import InvitationService, InvitationSettings
from bot.invitations.texts import ACCEPT, DECLINE
from bot.store import Store
from tests.fakes import CAMILLE, MAGALI, MARINE, NOW, OBSERVER, FakeChatPlatform, FakeClock


def with_observer(content_dir: Path) -> Path:
    """The content, plus a referent who is listed but does not handle invitations."""
    path = content_dir / "referents.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["referents"].append(
        {
            "name": "Observer Referent",
            "role": "référent qui ne traite pas les invitations",
            "email": "observer.referent@example.test",
            "mattermost": OBSERVER.username,
        }
    )
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return content_dir


@pytest.fixture
def setup(
    tmp_path: Path, content_copy: Path
) -> tuple[InvitationService, FakeChatPlatform, FakeClock]:
    platform, clock = FakeChatPlatform(), FakeClock()
    service = InvitationService(
        ContentSource(with_observer(content_copy)),
        Store.open(f"sqlite:///{tmp_path}/s.db"),
        Platforms(platform),
        InvitationSettings(),
        clock,
    )
    return service, platform, clock


def ask(service: InvitationService, text: str = "", user: User = CAMILLE) -> str:
    return asyncio.run(service.request(Message(f"rejoindre {text}", user, "c"), text)).text


def test_request_is_recorded_then_each_deciding_referent_gets_a_defused_notice(setup) -> None:  # type: ignore[no-untyped-def]
    service, platform, _ = setup
    assert "a été transmise aux référentes" in ask(
        service, '"Bonjour @channel, **urgent** [lien](http://x)"'
    )
    # In the content's order, and not the observer, who does not handle invitations.
    assert [user for user, _ in platform.sent] == ["u-marine", "u-magali"]
    notice = platform.sent[0][1]
    assert "@channel" not in notice.text and "@\u2060channel" in notice.text
    assert "\\*\\*urgent\\*\\*" in notice.text and "\\[lien\\]" in notice.text
    assert "**Camille Testeuse** (`@camille`), Intra à la DGFiP" in notice.text
    assert [b.label for b in notice.buttons] == ["Accepter", "Refuser"]
    invitation = service.records.open_for(CAMILLE.id)
    assert invitation is not None and len(invitation.notices) == 2


def test_member_pending_and_cooldown_answers(setup) -> None:  # type: ignore[no-untyped-def]
    service, platform, clock = setup
    platform.members.add(CAMILLE.id)
    assert "déjà membre" in ask(service)
    platform.members.clear()
    ask(service)
    assert "en attente depuis le samedi 28 novembre à 16 h" in ask(service)
    invitation = service.records.open_for(CAMILLE.id)
    assert invitation is not None
    asyncio.run(service.decide(invitation.id, DECLINE, MAGALI, "pas maintenant"))
    clock.now = NOW + dt.timedelta(days=10)
    assert "à partir du lundi 28 décembre 2026" in ask(service)
    clock.now = NOW + dt.timedelta(days=31)
    assert "a été transmise" in ask(service)


def test_accept_adds_welcomes_and_updates_every_notice(setup) -> None:  # type: ignore[no-untyped-def]
    service, platform, _ = setup
    ask(service)
    invitation = service.records.open_for(CAMILLE.id)
    assert invitation is not None
    decision = asyncio.run(service.decide(invitation.id, ACCEPT, MARINE))
    assert decision.applied and CAMILLE.id in platform.members
    assert any(
        user == CAMILLE.id and "Bienvenue dans ~domaine-intras-prive" in r.text
        for user, r in platform.sent
    )
    assert set(platform.updated) == {"post1", "post2"}
    assert all(
        "✅ **Acceptée** par `@marine.purson`" in r.text and not r.buttons
        for r in platform.updated.values()
    )
    again = asyncio.run(service.decide(invitation.id, DECLINE, MAGALI))
    assert not again.applied and "déjà été traitée par `@marine.purson`" in again.reply.text
    assert service.records.get(invitation.id).state == ACCEPTED  # type: ignore[union-attr]


def test_only_deciding_referents_decide(setup) -> None:  # type: ignore[no-untyped-def]
    service, platform, _ = setup
    ask(service)
    invitation = service.records.open_for(CAMILLE.id)
    assert invitation is not None
    for someone in (OBSERVER, CAMILLE, User("x", "intruder")):
        decision = asyncio.run(service.decide(invitation.id, ACCEPT, someone))
        assert not decision.applied and "Seules les référentes" in decision.reply.text
    assert service.records.get(invitation.id).state == PENDING  # type: ignore[union-attr]
    assert platform.adds == 0


def test_failed_add_keeps_the_request_open_and_says_what_to_fix(setup) -> None:  # type: ignore[no-untyped-def]
    service, platform, _ = setup
    ask(service)
    invitation = service.records.open_for(CAMILLE.id)
    assert invitation is not None
    platform.fail_add = "ajoutez @intra-bot au canal."
    decision = asyncio.run(service.decide(invitation.id, ACCEPT, MAGALI))
    assert not decision.applied
    assert (
        decision.reply.text
        == "⚠️ Je n'ai pas pu ajouter `@camille` : ajoutez @intra-bot au canal. La demande reste ouverte."
    )
    assert service.records.get(invitation.id).state == PENDING  # type: ignore[union-attr]
    assert not platform.updated
    platform.fail_add = ""
    assert asyncio.run(service.decide(invitation.id, ACCEPT, MAGALI)).applied


def test_decline_tells_the_requester_with_the_defused_reason(setup) -> None:  # type: ignore[no-untyped-def]
    service, platform, _ = setup
    ask(service)
    invitation = service.records.open_for(CAMILLE.id)
    assert invitation is not None
    decision = asyncio.run(
        service.decide(invitation.id, DECLINE, MAGALI, "Réservé aux intras en poste @here")
    )
    assert decision.applied
    text = next(r.text for user, r in platform.sent if user == CAMILLE.id)
    assert (
        "n'a pas été acceptée" in text
        and "Réservé aux intras en poste" in text
        and "@here" not in text
    )
    assert service.records.get(invitation.id).state == DECLINED  # type: ignore[union-attr]


def test_simultaneous_decisions_on_one_store_have_one_winner(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/race.db")
    from bot.invitations.records import InvitationRecords

    records = InvitationRecords(store)
    for round_ in range(20):
        invitation = records.create(f"user{round_}", "camille", "", NOW)
        assert invitation is not None
        barrier = threading.Barrier(4)
        wins: list[bool] = []

        def click(
            n: int,
            invitation_id: str = invitation.id,
            barrier: threading.Barrier = barrier,
            wins: list[bool] = wins,
        ) -> None:
            barrier.wait()
            wins.append(records.begin(invitation_id, n % 2 == 0, f"ref{n}", f"id{n}", NOW))

        threads = [threading.Thread(target=click, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wins.count(True) == 1


def test_one_open_request_per_person_even_when_racing(tmp_path: Path) -> None:
    from bot.invitations.records import InvitationRecords

    records = InvitationRecords(Store.open(f"sqlite:///{tmp_path}/dup.db"))
    barrier = threading.Barrier(4)
    created: list[object] = []

    def request() -> None:
        barrier.wait()
        created.append(records.create("same-user", "camille", "", NOW))

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(item is not None for item in created) == 1


def test_recall_once_a_day_and_retention(setup) -> None:  # type: ignore[no-untyped-def]
    service, platform, clock = setup
    ask(service)
    clock.now = NOW + dt.timedelta(days=1)
    assert asyncio.run(service.recall()) == 0  # not old enough
    clock.now = NOW + dt.timedelta(days=4)
    sent_before = len(platform.sent)
    assert asyncio.run(service.recall()) == 1
    assert len(platform.sent) == sent_before + 2 and "/intra demandes" in platform.sent[-1][1].text
    assert asyncio.run(service.recall()) == 0  # once a day
    clock.now = NOW + dt.timedelta(days=5)
    assert asyncio.run(service.recall()) == 1
    invitation = service.records.open_for(CAMILLE.id)
    assert invitation is not None
    asyncio.run(service.decide(invitation.id, ACCEPT, MAGALI))
    clock.now = NOW + dt.timedelta(days=300)
    assert asyncio.run(service.purge()) == 0
    clock.now = NOW + dt.timedelta(days=400)
    assert asyncio.run(service.purge()) == 1
    assert service.records.get(invitation.id) is None


def test_requests_list_is_for_referents_oldest_first(setup) -> None:  # type: ignore[no-untyped-def]
    service, _, clock = setup
    ask(service, "premier", User("u1", "camille"))
    clock.now = NOW + dt.timedelta(hours=1)
    ask(service, "second", User("u2", "camille"))
    assert (
        "réservée aux référentes"
        in asyncio.run(service.pending(Message("demandes", CAMILLE, "c"), "")).text
    )
    listing = asyncio.run(service.pending(Message("demandes", MAGALI, "c"), ""))
    assert "2 demandes en attente" in listing.text
    assert ["premier" in card.text for card in listing.cards] == [True, False]
    assert all([b.label for b in card.buttons] == ["Accepter", "Refuser"] for card in listing.cards)
