"""Subscriptions are personal data: `intra-bot export` shows a person's, `forget` stops
them (and their queued notices go with the outbox's rows), nobody else's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat import User
from bot.outbox.personal import OutboxKeeper
from bot.personal_data.model import Keeper, export_all, forget_all, parse_person
from tests.fakes import MAGALI
from tests.services.subscription_bed import NOTICE_AT, Bed, make_bed

MXID = "@camille:tchap.test"


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[Bed]:
    made = make_bed(tmp_path)
    yield made
    made.close()


def keepers(bed: Bed) -> list[Keeper]:
    from bot.subscriptions.personal import SubscriptionsKeeper

    return [SubscriptionsKeeper(bed.store), OutboxKeeper(bed.store)]


async def test_export_lists_a_persons_subscriptions_and_forget_stops_only_theirs(
    bed: Bed,
) -> None:
    camille_on_tchap = User(MXID, MXID)
    await bed.push("club prevenez-moi", camille_on_tchap, platform="matrix")
    await bed.push("certification prevenez-moi", camille_on_tchap, platform="matrix")
    await bed.push("club prevenez-moi", MAGALI)
    bed.clock.now = NOTICE_AT
    assert await bed.subscriptions.club_notices.sweep() == 2  # queued, not sent yet

    person = parse_person(MXID)
    exported = await export_all(person, keepers(bed))
    rows = exported["records"]["subscriptions"]
    assert sorted(row["kind"] for row in rows) == ["certification", "club"]
    assert {row["platform"] for row in rows} == {"matrix"}
    assert all(row["calendar_token"] and row["created_at"] for row in rows)
    assert [row["payload"]["user_id"] for row in exported["records"]["outbox"]] == [MXID]

    outcomes = {o.table: o.count for o in await forget_all(person, keepers(bed))}
    assert outcomes == {"subscriptions": 2, "outbox": 1, "subscription_club_told": 0}
    assert bed.subscriptions.records.counts() == {"club": 1}  # Magali's
    await bed.deliver()
    assert bed.matrix.sent == [] and [to for to, _ in bed.mattermost.sent] == [MAGALI.id]
    again = await export_all(person, keepers(bed))
    assert again["records"] == {"subscriptions": [], "subscription_club_told": [], "outbox": []}


async def test_what_a_club_notice_said_is_exported_and_forgotten(bed: Bed) -> None:
    await bed.push("club prevenez-moi", User(MXID, MXID), platform="matrix")
    bed.clock.now = NOTICE_AT
    await bed.subscriptions.club_notices.sweep()
    await bed.deliver()
    person = parse_person(MXID)
    exported = await export_all(person, keepers(bed))
    [told] = exported["records"]["subscription_club_told"]
    assert told["occurrence"] == "2026-12-03" and told["start_told"].startswith("2026-12-03T15")
    outcomes = {o.table: o.count for o in await forget_all(person, keepers(bed))}
    assert outcomes["subscription_club_told"] == 1
