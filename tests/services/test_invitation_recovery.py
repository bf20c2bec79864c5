"""Invitations across crashes, on a real store: the messages of a recorded state change go
out after a restart, and a decision left half-way is finished or released."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from bot.chat import Message, Platforms, Reply
from bot.content.loader import ContentSource
from bot.invitations.effects import notice_effects
from bot.invitations.records import ACCEPTED, ACCEPTING, PENDING
from bot.invitations.recovery import finish_stuck
from bot.invitations.service import InvitationService, InvitationSettings
from bot.invitations.texts import ACCEPT
from bot.outbox.store import DONE
from bot.store import Store
from tests.fakes import CAMILLE, MAGALI, MARINE, NOW, FakeChatPlatform, FakeClock

LEASE = dt.timedelta(minutes=2)


class DownPlatform(FakeChatPlatform):
    """Mattermost away: every message fails, as during a restart."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def send_direct(
        self, user_id: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        if self.down:
            raise ConnectionError("Mattermost unreachable")
        return await super().send_direct(user_id, reply)


def service_on(path: Path, platform: FakeChatPlatform, clock: FakeClock) -> InvitationService:
    """A process: its own service over the shared store file (a restart is a new one)."""
    return InvitationService(
        ContentSource(),
        Store.open(f"sqlite:///{path}/shared.db"),
        Platforms(platform),
        InvitationSettings(decision_lease=LEASE),
        clock,
    )


def test_notices_recorded_with_the_request_are_sent_by_the_next_process(tmp_path: Path) -> None:
    clock = FakeClock()
    first = service_on(tmp_path, FakeChatPlatform(), clock)
    profile = asyncio.run(FakeChatPlatform().profile(CAMILLE.id))
    referents = asyncio.run(first.referent_ids())

    def notices(new_id: str) -> list:  # type: ignore[type-arg]
        return notice_effects(new_id, profile, "", referents)

    # What `request` records, then the process dies before sending anything.
    invitation = first.records.create(CAMILLE.id, "camille", "bonjour", NOW, notices)
    assert invitation is not None
    platform = FakeChatPlatform()
    second = service_on(tmp_path, platform, clock)
    assert asyncio.run(second.outbox.run_due()) == 2
    assert sorted(user for user, _ in platform.sent) == ["u-magali", "u-marine"]
    assert all("Camille Testeuse" in reply.text and reply.buttons for _, reply in platform.sent)
    recorded = second.records.get(invitation.id)
    assert recorded is not None and len(recorded.notices) == 2
    assert asyncio.run(second.outbox.run_due()) == 0  # sent once


def test_a_request_made_while_mattermost_fails_is_announced_once_it_is_back(
    tmp_path: Path,
) -> None:
    clock, platform = FakeClock(), DownPlatform()
    service = service_on(tmp_path, platform, clock)
    answer = asyncio.run(service.request(Message("rejoindre", CAMILLE, "c"), "")).text
    assert "je réessaierai" in answer and platform.sent == []
    platform.down = False
    clock.now = NOW + dt.timedelta(seconds=3)
    assert asyncio.run(service.outbox.run_due()) == 2
    assert len(platform.sent) == 2


def test_a_notice_sent_after_the_decision_shows_the_outcome(tmp_path: Path) -> None:
    clock, platform = FakeClock(), DownPlatform()
    service = service_on(tmp_path, platform, clock)
    asyncio.run(service.request(Message("rejoindre", CAMILLE, "c"), ""))
    invitation = service.records.open_for(CAMILLE.id)
    assert invitation is not None
    platform.down = False
    assert asyncio.run(service.decide(invitation.id, ACCEPT, MARINE)).applied
    clock.now = NOW + dt.timedelta(seconds=3)
    asyncio.run(service.outbox.run_due())
    notices = [reply for user, reply in platform.sent if user != CAMILLE.id]
    assert len(notices) == 2
    assert all("✅ **Acceptée** par `@marine.purson`" in r.text and not r.buttons for r in notices)


def test_a_second_referent_is_told_the_request_is_being_handled(tmp_path: Path) -> None:
    clock = FakeClock()
    service = service_on(tmp_path, FakeChatPlatform(), clock)
    asyncio.run(service.request(Message("rejoindre", CAMILLE, "c"), ""))
    invitation = service.records.open_for(CAMILLE.id)
    assert invitation is not None
    # Magali's click won, then her process died before the channel add.
    assert service.records.begin(invitation.id, True, "magali.marcel", MAGALI.id, NOW)
    second = asyncio.run(service.decide(invitation.id, ACCEPT, MARINE))
    assert not second.applied
    assert "en cours de traitement par `@magali.marcel`" in second.reply.text
    assert "déjà été traitée" not in second.reply.text


def test_a_stuck_accept_without_membership_is_released(tmp_path: Path) -> None:
    clock, platform = FakeClock(), FakeChatPlatform()
    service = service_on(tmp_path, platform, clock)
    asyncio.run(service.request(Message("rejoindre", CAMILLE, "c"), ""))
    invitation = service.records.open_for(CAMILLE.id)
    assert invitation is not None
    service.records.begin(invitation.id, True, "magali.marcel", MAGALI.id, NOW)
    clock.now = NOW + LEASE - dt.timedelta(seconds=1)
    assert asyncio.run(finish_stuck(service)) == 0  # the holder may still be working
    assert service.records.get(invitation.id).state == ACCEPTING  # type: ignore[union-attr]
    clock.now = NOW + LEASE + dt.timedelta(seconds=1)
    assert asyncio.run(finish_stuck(service)) == 1
    assert service.records.get(invitation.id).state == PENDING  # type: ignore[union-attr]
    assert not platform.updated  # the notices keep their live buttons
    assert asyncio.run(service.decide(invitation.id, ACCEPT, MARINE)).applied
    assert CAMILLE.id in platform.members


def test_a_stuck_accept_whose_add_happened_is_completed_with_its_messages(
    tmp_path: Path,
) -> None:
    clock, platform = FakeClock(), FakeChatPlatform()
    service = service_on(tmp_path, platform, clock)
    asyncio.run(service.request(Message("rejoindre", CAMILLE, "c"), ""))
    invitation = service.records.open_for(CAMILLE.id)
    assert invitation is not None
    service.records.begin(invitation.id, True, "magali.marcel", MAGALI.id, NOW)
    platform.members.add(CAMILLE.id)  # the add went through just before the crash
    clock.now = NOW + LEASE + dt.timedelta(seconds=1)
    other = service_on(tmp_path, platform, clock)  # another replica picks it up
    assert asyncio.run(finish_stuck(other)) == 1
    done = other.records.get(invitation.id)
    assert done is not None and done.state == ACCEPTED and done.decided_by == "magali.marcel"
    assert any(
        user == CAMILLE.id and "acceptée par `@magali.marcel`" in reply.text
        for user, reply in platform.sent
    )
    assert set(platform.updated) == {"post1", "post2"}
    assert all("✅ **Acceptée**" in r.text for r in platform.updated.values())
    assert set(other.outbox.store.states(f"invitation:{invitation.id}:").values()) == {DONE}
    assert asyncio.run(finish_stuck(service)) == 0  # nothing left for the first one


def test_the_daily_recall_is_sent_once_even_when_mattermost_fails_at_first(
    tmp_path: Path,
) -> None:
    clock, platform = FakeClock(), DownPlatform()
    service = service_on(tmp_path, platform, clock)
    platform.down = False
    asyncio.run(service.request(Message("rejoindre", CAMILLE, "c"), ""))
    platform.sent.clear()
    platform.down = True
    clock.now = NOW + dt.timedelta(days=4)
    assert asyncio.run(service.recall()) == 1
    assert platform.sent == []  # Mattermost away: queued, not lost
    assert asyncio.run(service.recall()) == 0  # still once a day
    platform.down = False
    clock.now += dt.timedelta(seconds=3)
    restarted = service_on(tmp_path, platform, clock)
    assert asyncio.run(restarted.outbox.run_due()) == 2
    assert sorted(user for user, _ in platform.sent) == ["u-magali", "u-marine"]
    assert all("/intra demandes" in reply.text for _, reply in platform.sent)
