"""The club's personal notice on a real store: due the day before, once per subscriber and
club whatever the sweeps, on the subscriber's platform, with a calendar link that says
the club as it is now; nothing for a person who stopped, nor for a cancelled club."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import icalendar
import pytest
import yaml

from bot.chat import NoSuchUser, Reply
from bot.outbox.store import DONE
from tests.fakes import CAMILLE, MAGALI, MARINE
from tests.services.subscription_bed import NOTICE_AT, PUBLIC_URL, Bed, make_bed


@pytest.fixture
def bed(content_copy: Path, tmp_path: Path) -> Iterator[Bed]:
    """The bed on a copy of the content, which some tests edit."""
    made = make_bed(tmp_path, content_copy)
    yield made
    made.close()


def calendar_of(bed: Bed, text: str) -> icalendar.Calendar | None:
    url = next(word for word in text.split() if word.startswith(PUBLIC_URL))
    _, _, token, name = urlsplit(url).path.split("/")
    body = bed.subscriptions.club_notices.calendar_file(token, name)
    return None if body is None else icalendar.Calendar.from_ical(body)


async def test_each_subscriber_gets_one_notice_the_day_before_on_their_platform(bed: Bed) -> None:
    await bed.push("club prevenez-moi", CAMILLE)
    await bed.push("club prevenez-moi", MAGALI, platform="matrix")
    notices = bed.subscriptions.club_notices
    bed.clock.now = NOTICE_AT - dt.timedelta(seconds=1)
    assert await notices.sweep() == 0
    bed.clock.now = NOTICE_AT
    assert await notices.sweep() == 2
    assert await bed.deliver() == 2
    [(to_camille, on_mattermost)] = bed.mattermost.sent
    [(to_magali, on_tchap)] = bed.matrix.sent
    assert (to_camille, to_magali) == (CAMILLE.id, MAGALI.id)
    text = on_mattermost.text
    assert "Club intras demain" in text and "jeudi 3 décembre" in text
    assert "16\u00a0h" in text and "17\u00a0h" in text and "forum mensuel" in text
    assert "`/intra club stop`" in text
    assert "`!intra club stop`" in on_tchap.text
    # Later sweeps (this replica or another, after a restart) queue nothing more.
    bed.clock.now = NOTICE_AT + dt.timedelta(hours=2)
    assert await notices.sweep() == 0
    assert await bed.deliver() == 0
    assert len(bed.mattermost.sent) == 1 and len(bed.matrix.sent) == 1
    states = bed.outbox.store.states("subscription:club:")
    assert sorted(states.values()) == [DONE, DONE]


async def test_the_calendar_link_is_the_persons_and_gives_the_club_as_an_invitation(
    bed: Bed,
) -> None:
    await bed.push("club prevenez-moi", CAMILLE)
    bed.clock.now = NOTICE_AT
    await bed.subscriptions.club_notices.sweep()
    await bed.deliver()
    [(_, notice)] = bed.mattermost.sent
    calendar = calendar_of(bed, notice.text)
    assert calendar is not None and str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC)
    assert str(event["UID"]) == "club-intras-2026-12-03@intra-bot"
    notices = bed.subscriptions.club_notices
    assert notices.calendar_file("not-a-token", "club-2026-12-03.ics") is None
    await bed.push("club stop", CAMILLE)
    assert calendar_of(bed, notice.text) is None  # stopped: the link is no one's any more


async def test_nobody_who_stopped_before_the_notice_went_out_gets_it(bed: Bed) -> None:
    await bed.push("club prevenez-moi", CAMILLE)
    await bed.push("club prevenez-moi", MARINE)
    bed.clock.now = NOTICE_AT
    assert await bed.subscriptions.club_notices.sweep() == 2
    await bed.push("club stop", MARINE)  # queued already, not sent yet
    assert await bed.deliver() == 2  # both rows done...
    assert [to for to, _ in bed.mattermost.sent] == [CAMILLE.id]  # ... one DM


async def test_a_notice_missed_for_longer_than_the_grace_is_not_sent(bed: Bed) -> None:
    await bed.push("club prevenez-moi", CAMILLE)
    bed.clock.now = NOTICE_AT + dt.timedelta(hours=6, seconds=1)
    assert await bed.subscriptions.club_notices.sweep() == 0


async def test_someone_the_platform_no_longer_knows_is_unsubscribed_with_a_log_line(
    bed: Bed, caplog: pytest.LogCaptureFixture
) -> None:
    async def unknown(user_id: str, reply: Reply, *, key: str = "", retry: bool = False) -> None:
        raise NoSuchUser(user_id)

    await bed.push("club prevenez-moi", CAMILLE)
    await bed.push("certification prevenez-moi", CAMILLE)
    bed.mattermost.send_direct = unknown  # type: ignore[method-assign]
    bed.clock.now = NOTICE_AT
    await bed.subscriptions.club_notices.sweep()
    # The feature's own logger: another test may have set the `bot` logger's level (as
    # `intra-bot run` does), which the root's level would not override.
    with caplog.at_level(logging.INFO, logger="bot.subscriptions.service"):
        await bed.deliver()
    assert bed.subscriptions.records.counts() == {}
    assert any(
        "event=unsubscribed" in r.message and "reason=left" in r.message for r in caplog.records
    )


def _edit_club(content_dir: Path, exception: dict[str, object]) -> None:
    path = content_dir / "club.yaml"
    club = yaml.safe_load(path.read_text(encoding="utf-8"))
    club["schedule"]["exceptions"] = [exception]
    path.write_text(yaml.safe_dump(club, allow_unicode=True, sort_keys=False), encoding="utf-8")


async def test_a_moved_club_is_told_at_its_new_date_and_a_cancelled_one_cancels_the_event(
    content_copy: Path, bed: Bed
) -> None:
    await bed.push("club prevenez-moi", CAMILLE)
    bed.clock.now = NOTICE_AT
    await bed.subscriptions.club_notices.sweep()
    # Moved to Friday the 4th at 10 h after the notice was queued: it says the new date.
    _edit_club(
        content_copy,
        {"date": dt.date(2026, 12, 3), "moved_to": dt.date(2026, 12, 4), "start": "10:00"},
    )
    assert bed.content.reload() is None
    await bed.deliver()
    [(_, notice)] = bed.mattermost.sent
    assert "vendredi 4 décembre de 10\u00a0h" in notice.text
    assert "date inhabituelle" in notice.text
    moved = calendar_of(bed, notice.text)
    assert moved is not None
    [event] = moved.walk("VEVENT")
    assert event.decoded("dtstart") == dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
    first_sequence = int(event["SEQUENCE"])
    # Then cancelled: the same link now removes it from the person's calendar.
    _edit_club(content_copy, {"date": dt.date(2026, 12, 3), "cancelled": True})
    assert bed.content.reload() is None
    cancelled = calendar_of(bed, notice.text)
    assert cancelled is not None and str(cancelled["METHOD"]) == "CANCEL"
    [gone] = cancelled.walk("VEVENT")
    assert str(gone["UID"]) == str(event["UID"]) and str(gone["STATUS"]) == "CANCELLED"
    assert int(gone["SEQUENCE"]) > first_sequence


async def test_a_club_cancelled_before_its_notice_went_out_is_not_told(
    content_copy: Path, bed: Bed
) -> None:
    await bed.push("club prevenez-moi", CAMILLE)
    bed.clock.now = NOTICE_AT
    assert await bed.subscriptions.club_notices.sweep() == 1
    _edit_club(content_copy, {"date": dt.date(2026, 12, 3), "cancelled": True})
    assert bed.content.reload() is None
    await bed.deliver()
    assert bed.mattermost.sent == []


async def test_a_club_moved_or_cancelled_after_the_notice_is_told_once_each_time(
    content_copy: Path, bed: Bed
) -> None:
    await bed.push("club prevenez-moi", CAMILLE)
    await bed.push("club prevenez-moi", MARINE)
    notices = bed.subscriptions.club_notices
    bed.clock.now = NOTICE_AT
    assert await notices.sweep() == 2
    await bed.deliver()
    assert await notices.sweep() == 0  # told, unchanged: nothing more
    await bed.push("club stop", MARINE)  # she will hear of no change
    _edit_club(
        content_copy,
        {"date": dt.date(2026, 12, 3), "moved_to": dt.date(2026, 12, 4), "start": "10:00"},
    )
    assert bed.content.reload() is None
    assert await notices.sweep() == 1
    await bed.deliver()
    assert await notices.sweep() == 0  # told once
    [_, _, (to, moved)] = bed.mattermost.sent
    text = moved.text.replace("\u00a0", " ")
    assert to == CAMILLE.id and "change de date" in text
    assert "vendredi 4 décembre de 10 h" in text and "au lieu du jeudi 3 décembre à 16 h" in text
    assert "`/intra club stop`" in text and PUBLIC_URL in text
    _edit_club(content_copy, {"date": dt.date(2026, 12, 3), "cancelled": True})
    assert bed.content.reload() is None
    assert await notices.sweep() == 1
    await bed.deliver()
    assert await notices.sweep() == 0
    [(to, cancelled)] = bed.mattermost.sent[3:]
    text = cancelled.text.replace("\u00a0", " ")
    assert "Le club intras du vendredi 4 décembre à 10 h est annulé" in text
    calendar = calendar_of(bed, cancelled.text)
    assert calendar is not None and str(calendar["METHOD"]) == "CANCEL"
