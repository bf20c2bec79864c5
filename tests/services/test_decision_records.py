"""The decision records one row at a time: a transition touches its own request only."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re

import pytest

from bot.chat import User
from bot.invitations.records import ACCEPTING, PENDING, InvitationRecords
from bot.invitations.service import InvitationService
from bot.invitations.texts import DECLINE
from tests.services.test_decision_claims import records  # noqa: F401
from tests.services.test_invitations import MAGALI, MARINE, NOW, setup  # noqa: F401

LATER = NOW + dt.timedelta(seconds=30)


def two_requests(records: InvitationRecords) -> tuple[str, str]:  # noqa: F811
    first = records.create("u-a", "a", "", NOW)
    second = records.create("u-b", "b", "", NOW)
    assert first is not None and second is not None
    return first.id, second.id


def test_a_new_request_is_pending_with_nothing_decided(records: InvitationRecords) -> None:  # noqa: F811
    created = records.create("u-a", "a", "bonjour", NOW)
    assert created is not None
    assert re.fullmatch(r"[0-9a-f]{16}", created.id)  # short enough for a button's value
    assert (created.state, created.decided_by, created.decided_by_id, created.reason) == (
        PENDING,
        "",
        "",
        "",
    )
    assert (created.decided_at, created.notices, created.message) == (None, (), "bonjour")


def test_deciding_one_request_leaves_the_others_alone(records: InvitationRecords) -> None:  # noqa: F811
    first, second = two_requests(records)
    assert records.begin(first, True, MAGALI.username, MAGALI.id, NOW)
    assert records.get(second).state == PENDING  # type: ignore[union-attr]
    assert records.begin(second, True, MAGALI.username, MAGALI.id, NOW)
    assert records.finish_accept(first, MAGALI.id, LATER)
    assert records.get(second).state == ACCEPTING  # type: ignore[union-attr]
    assert records.abort_accept(second, MAGALI.id)
    assert records.get(first).state == "accepted"  # type: ignore[union-attr]


def test_finishing_records_when_it_finished(records: InvitationRecords) -> None:  # noqa: F811
    first, _ = two_requests(records)
    assert records.begin(first, True, MAGALI.username, MAGALI.id, NOW)
    assert records.finish_accept(first, MAGALI.id, LATER)
    assert records.get(first).decided_at == LATER  # type: ignore[union-attr]


def test_a_decision_without_a_reason_records_none(records: InvitationRecords) -> None:  # noqa: F811
    first, _ = two_requests(records)
    assert records.begin(first, False, MAGALI.username, MAGALI.id, NOW)
    assert records.get(first).reason == ""  # type: ignore[union-attr]


def test_a_referent_is_her_user_id_whatever_the_username_says(setup) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    service, _, _ = setup
    assert asyncio.run(service.is_referent(User("u-magali", "@magali.marcel")))
    assert asyncio.run(service.is_referent(User("u-magali", "renamed.since")))
    assert not asyncio.run(service.is_referent(User("attacker999", "magali.marcel")))


def test_declining_through_the_service_without_a_reason(setup) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    service, _, _ = setup
    created = service.records.create("u-a", "a", "", NOW)
    decision = asyncio.run(service.decide(created.id, DECLINE, MAGALI))
    assert decision.applied is True
    assert service.records.get(created.id).reason == ""


def test_refusals_say_why_and_apply_nothing(setup, caplog) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    service, _, _ = setup
    caplog.set_level(logging.WARNING, logger="bot.invitations.service")
    outsider = asyncio.run(service.decide("whatever", DECLINE, User("u-x", "someone")))
    assert outsider.applied is False
    assert outsider.reply.text == (
        "Seules les référentes des intras peuvent traiter les demandes d'accès."
    )
    assert [r.getMessage() for r in caplog.records if r.name == "bot.invitations.service"] == [
        "event=invitation_decision_refused id=whatever user=someone reason=not_referent"
    ]
    missing = asyncio.run(service.decide("gone", DECLINE, MAGALI))
    assert missing.applied is False
    assert missing.reply.text == "Cette demande n'existe plus (elle a peut-être été archivée)."
    created = service.records.create("u-a", "a", "", NOW)
    assert asyncio.run(service.decide(created.id, DECLINE, MAGALI)).applied is True
    late = asyncio.run(service.decide(created.id, DECLINE, MARINE))
    assert late.applied is False
    assert late.reply.text == "Cette demande a déjà été traitée par `@magali.marcel`."


def test_a_request_deleted_while_deciding_is_said_plainly(
    setup,  # type: ignore[no-untyped-def]  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service: InvitationService = setup[0]
    created = service.records.create("u-a", "a", "", NOW)
    assert service.records.begin(created.id, False, "marine.purson", MARINE.id, NOW)
    answers = iter([created, None])  # found, then purged before the second look
    monkeypatch.setattr(service.records, "get", lambda _id: next(answers))
    lost = asyncio.run(service.decide(created.id, DECLINE, MAGALI))
    assert (lost.applied, lost.reply.text) == (
        False,
        "Cette demande a déjà été traitée.",
    )
