"""Who may finish an « accepting » decision, and when a stalled one may be taken over.

Accepting holds the request in « accepting » while the channel add runs. Only the
referent who holds it may finish or abort it; another may take it over only once it
is stale (its holder crashed), and the holder then loses it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.chat import Platforms
from bot.content.loader import ContentSource
from bot.invitations.records import ACCEPTED, ACCEPTING, DECLINED, PENDING, InvitationRecords
from bot.invitations.service import InvitationService, InvitationSettings
from bot.invitations.texts import ACCEPT, DECLINE
from bot.store import Store
from tests.fakes import CAMILLE, MAGALI, MARINE, NOW, FakeChatPlatform, FakeClock

STALE = dt.timedelta(minutes=2)  # the records' default
TICK = dt.timedelta(microseconds=1)


@pytest.fixture
def records(tmp_path: Path) -> InvitationRecords:
    return InvitationRecords(Store.open(f"sqlite:///{tmp_path}/s.db"))


def new_request(records: InvitationRecords) -> str:
    invitation = records.create(CAMILLE.id, CAMILLE.username, "bonjour", NOW)
    assert invitation is not None
    return invitation.id


def accepting_by_magali(records: InvitationRecords) -> str:
    invitation_id = new_request(records)
    assert records.begin(invitation_id, True, MAGALI.username, MAGALI.id, NOW)
    return invitation_id


def state(records: InvitationRecords, invitation_id: str) -> tuple[str, str]:
    invitation = records.get(invitation_id)
    assert invitation is not None
    return invitation.state, invitation.decided_by_id


def test_another_referent_cannot_finish_or_abort_a_held_accept(records: InvitationRecords) -> None:
    invitation_id = accepting_by_magali(records)
    assert not records.finish_accept(invitation_id, MARINE.id, NOW)
    assert not records.abort_accept(invitation_id, MARINE.id)
    assert state(records, invitation_id) == (ACCEPTING, MAGALI.id)
    assert records.finish_accept(invitation_id, MAGALI.id, NOW + TICK)
    assert state(records, invitation_id) == (ACCEPTED, MAGALI.id)


def test_the_holder_aborting_reopens_the_request_as_if_nobody_clicked(
    records: InvitationRecords,
) -> None:
    invitation_id = accepting_by_magali(records)
    assert records.abort_accept(invitation_id, MAGALI.id)
    invitation = records.get(invitation_id)
    assert invitation is not None
    assert (invitation.state, invitation.decided_by, invitation.decided_by_id) == (PENDING, "", "")
    assert invitation.decided_at is None and invitation.open
    # Open again: anyone may now decide it.
    assert records.begin(invitation_id, False, MARINE.username, MARINE.id, NOW + TICK)
    assert state(records, invitation_id) == (DECLINED, MARINE.id)


def test_finishing_or_aborting_needs_an_accepting_request(records: InvitationRecords) -> None:
    invitation_id = new_request(records)
    assert not records.finish_accept(invitation_id, MAGALI.id, NOW)
    assert not records.abort_accept(invitation_id, MAGALI.id)
    assert records.begin(invitation_id, False, MAGALI.username, MAGALI.id, NOW)
    assert not records.finish_accept(invitation_id, MAGALI.id, NOW)
    assert not records.abort_accept(invitation_id, MAGALI.id)
    assert state(records, invitation_id) == (DECLINED, MAGALI.id)


def test_a_held_accept_is_not_stale_until_strictly_past_the_limit(
    records: InvitationRecords,
) -> None:
    invitation_id = accepting_by_magali(records)
    for when in (NOW, NOW + STALE - TICK, NOW + STALE):
        assert not records.begin(invitation_id, True, MARINE.username, MARINE.id, when), when
        assert not records.begin(invitation_id, False, MARINE.username, MARINE.id, when), when
    assert state(records, invitation_id) == (ACCEPTING, MAGALI.id)


def test_a_stale_accept_is_taken_over_and_its_first_holder_loses_it(
    records: InvitationRecords,
) -> None:
    invitation_id = accepting_by_magali(records)
    later = NOW + STALE + TICK
    assert records.begin(invitation_id, True, MARINE.username, MARINE.id, later)
    assert state(records, invitation_id) == (ACCEPTING, MARINE.id)
    # Magali's add finally returns: her claim is gone, she changes nothing.
    assert not records.finish_accept(invitation_id, MAGALI.id, later)
    assert not records.abort_accept(invitation_id, MAGALI.id)
    assert records.finish_accept(invitation_id, MARINE.id, later)
    invitation = records.get(invitation_id)
    assert invitation is not None
    assert (invitation.state, invitation.decided_by, invitation.decided_at) == (
        ACCEPTED,
        MARINE.username,
        later,
    )


def test_a_stale_accept_may_also_be_declined(records: InvitationRecords) -> None:
    invitation_id = accepting_by_magali(records)
    later = NOW + STALE + TICK
    assert records.begin(invitation_id, False, MARINE.username, MARINE.id, later, "complet")
    invitation = records.get(invitation_id)
    assert invitation is not None
    assert (invitation.state, invitation.decided_by_id, invitation.reason) == (
        DECLINED,
        MARINE.id,
        "complet",
    )


def test_the_stale_limit_is_a_parameter(records: InvitationRecords) -> None:
    invitation_id = accepting_by_magali(records)
    limit = dt.timedelta(seconds=10)
    at_limit, past = NOW + limit, NOW + limit + TICK
    assert not records.begin(invitation_id, True, "m", MARINE.id, at_limit, stale_after=limit)
    assert records.begin(invitation_id, True, "m", MARINE.id, past, stale_after=limit)


def test_decided_requests_are_final(records: InvitationRecords) -> None:
    invitation_id = accepting_by_magali(records)
    assert records.finish_accept(invitation_id, MAGALI.id, NOW)
    far = NOW + dt.timedelta(days=30)
    assert not records.begin(invitation_id, False, MARINE.username, MARINE.id, far)
    assert not records.begin(invitation_id, True, MARINE.username, MARINE.id, far)
    assert state(records, invitation_id) == (ACCEPTED, MAGALI.id)


class BlockingAdd(FakeChatPlatform):
    """A channel add that waits until released: the holder is « accepting » meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def add_member(self, user_id: str) -> None:
        self.started.set()
        await self.release.wait()
        await super().add_member(user_id)


async def test_a_second_referent_clicking_during_the_add_is_told_who_decides(
    tmp_path: Path,
) -> None:
    platform, clock = BlockingAdd(), FakeClock()
    service = InvitationService(
        ContentSource(),
        Store.open(f"sqlite:///{tmp_path}/s.db"),
        Platforms(platform),
        InvitationSettings(),
        clock,
    )
    invitation_id = new_request(service.records)
    first = asyncio.create_task(service.decide(invitation_id, ACCEPT, MAGALI))
    await asyncio.wait_for(platform.started.wait(), timeout=30)
    second = await service.decide(invitation_id, DECLINE, MARINE, "non")
    assert not second.applied
    # not « déjà traitée »: nobody has been added yet, and the add may still fail
    assert second.reply.text.startswith(
        "Cette demande est en cours de traitement par `@magali.marcel`"
    )
    platform.release.set()
    decision = await asyncio.wait_for(first, timeout=30)
    assert decision.applied and platform.adds == 1
    assert state(service.records, invitation_id) == (ACCEPTED, MAGALI.id)
