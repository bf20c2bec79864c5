"""The newcomers' follow-up on a real store: welcomed once, followed up once two weeks later
(not at the weekend), with the three next steps; never for who was forgotten; off in config."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.chat import Platforms
from bot.greeter import Greeter
from tests.fakes import CAMILLE
from tests.services.subscription_bed import BEFORE, make_bed

PARIS = dt.timezone(dt.timedelta(hours=1))  # Paris in December


async def test_a_newcomer_welcomed_once_is_followed_up_once_two_weeks_later(
    tmp_path: Path,
) -> None:
    bed = make_bed(tmp_path)
    try:
        greeter = Greeter(bed.content, Platforms(bed.mattermost, bed.matrix), bed.outbox)
        greeter.tell(bed.subscriptions)
        assert await greeter.joined("mattermost", CAMILLE.id)  # Saturday 28 November
        assert not await greeter.joined("mattermost", CAMILLE.id)  # joined again: nothing new
        [(_, welcome)] = bed.mattermost.sent
        assert "`/intra club prevenez-moi`" in welcome.text  # the welcome offers it
        assert "embarquement" in welcome.text
        follow_ups = bed.subscriptions.newcomers
        bed.clock.now = BEFORE + dt.timedelta(days=13)
        assert await follow_ups.sweep() == 0
        bed.clock.now = dt.datetime(2026, 12, 12, 16, 0, tzinfo=PARIS)  # 14 days: a Saturday
        assert await follow_ups.sweep() == 0
        bed.clock.now = dt.datetime(2026, 12, 14, 9, 0, tzinfo=PARIS)  # Monday morning
        assert await follow_ups.sweep() == 1
        await bed.deliver()
        [_, (to, follow_up)] = bed.mattermost.sent
        text = follow_up.text.replace("\u00a0", " ").replace("\u202f", " ")
        assert to == CAMILLE.id
        assert "https://app.calendso.incubateur.net/amel-alili/embarquement-intras" in text
        assert "le jeudi 7 janvier à 16 h" in text and "`/intra club prevenez-moi`" in text
        assert "`/intra referents`" in text and "seul message spontané" in text
        bed.clock.now += dt.timedelta(days=1)
        assert await follow_ups.sweep() == 0
        await bed.deliver()
        assert len(bed.mattermost.sent) == 2
    finally:
        bed.close()


async def test_no_follow_up_for_who_left_or_when_it_is_turned_off(tmp_path: Path) -> None:
    bed = make_bed(tmp_path / "on")
    off = make_bed(tmp_path / "off", newcomer_follow_up_days=0)
    try:
        await bed.subscriptions.joined("matrix", "@ana:tchap")
        await off.subscriptions.joined("matrix", "@ana:tchap")
        bed.clock.now = off.clock.now = dt.datetime(2026, 12, 14, 9, 0, tzinfo=PARIS)
        assert await off.subscriptions.newcomers.sweep() == 0
        assert await bed.subscriptions.newcomers.sweep() == 1
        await bed.subscriptions.left("matrix", "@ana:tchap")  # left the room meanwhile
        await bed.deliver()
        assert bed.matrix.sent == []
    finally:
        bed.close()
        off.close()
