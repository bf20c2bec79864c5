"""The certification's personal messages on a real store: when editors publish a session,
each subscriber is told once, then once before the deadline; never outside quiet hours
unless the deadline is the next day; nothing for who stopped or after a withdrawal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.chat import User
from bot.content.loader import load_content
from tests.fakes import CAMILLE, MAGALI
from tests.services.subscription_bed import Bed, make_bed

PARIS = dt.timezone(dt.timedelta(hours=2))  # Paris in April and May
SESSION = {
    "title": "Session de mai 2027",
    "starts": "2027-05-10",
    "signup_url": "https://inscription.example/certif",
    "deadline": "2027-04-30",
}
MARINE = User("u-marine", "marine")


@pytest.fixture
def bed(content_copy: Path, tmp_path: Path) -> Iterator[Bed]:
    """The bed on a copy of the content, which the test edits."""
    made = make_bed(tmp_path, content_copy)
    yield made
    made.close()


def publish(content_dir: Path, session: dict[str, str] | None) -> None:
    path = content_dir / "certification.yaml"
    topic = yaml.safe_load(path.read_text(encoding="utf-8"))
    topic.pop("session", None)
    if session is not None:
        topic["session"] = session
    path.write_text(yaml.safe_dump(topic, allow_unicode=True, sort_keys=False), encoding="utf-8")


def bodies(bed: Bed) -> list[tuple[str, str]]:
    return [(to, reply.text) for to, reply in bed.mattermost.sent + bed.matrix.sent]


async def test_each_subscriber_is_told_once_then_before_the_deadline(
    content_copy: Path, bed: Bed
) -> None:
    notices = bed.subscriptions.certification_notices
    await bed.push("certification prevenez-moi", CAMILLE)
    await bed.push("certification prevenez-moi", MAGALI, platform="matrix")
    bed.clock.now = dt.datetime(2027, 4, 6, 11, 0, tzinfo=PARIS)  # a Tuesday
    assert await notices.sweep() == 0  # nothing published
    publish(content_copy, SESSION)
    assert bed.content.reload() is None
    assert await notices.sweep() == 2
    assert await notices.sweep() == 0
    await bed.deliver()
    sent = bodies(bed)
    assert [to for to, _ in sent] == [CAMILLE.id, MAGALI.id]
    assert all("une session est ouverte" in text for _, text in sent)
    assert "`!intra certification stop`" in sent[1][1]
    # Camille stops; on Tuesday the 27th at 10 h Magali gets the reminder.
    await bed.push("certification stop", CAMILLE)
    bed.clock.now = dt.datetime(2027, 4, 27, 10, 0, tzinfo=PARIS)
    assert await notices.sweep() == 1
    await bed.deliver()
    [(to, reminder)] = bodies(bed)[2:]
    assert to == MAGALI.id and "inscriptions jusqu'au" in reminder
    bed.clock.now = dt.datetime(2027, 5, 1, 10, 0, tzinfo=PARIS)  # closed
    assert await notices.sweep() == 0


async def test_quiet_hours_hold_the_announcement_and_a_withdrawn_session_is_not_told(
    content_copy: Path, bed: Bed
) -> None:
    publish(content_copy, SESSION)
    assert bed.content.reload() is None
    notices = bed.subscriptions.certification_notices
    await bed.push("certification prevenez-moi", CAMILLE)
    bed.clock.now = dt.datetime(2027, 4, 10, 11, 0, tzinfo=PARIS)  # a Saturday
    assert await notices.sweep() == 0
    bed.clock.now = dt.datetime(2027, 4, 12, 7, 0, tzinfo=PARIS)  # Monday, too early
    assert await notices.sweep() == 0
    bed.clock.now = dt.datetime(2027, 4, 12, 9, 0, tzinfo=PARIS)
    assert await notices.sweep() == 1
    publish(content_copy, None)  # withdrawn before it went out
    assert bed.content.reload() is None
    await bed.deliver()
    assert bodies(bed) == []


def test_the_shipped_content_publishes_no_session(content_copy: Path) -> None:
    # The sources give no dated session (« une en mai, une en décembre »): none is invented.
    assert load_content(content_copy).certification.session is None


async def test_the_announcement_is_not_told_again_after_the_outbox_forgot_it(
    content_copy: Path, bed: Bed
) -> None:
    publish(content_copy, SESSION)
    assert bed.content.reload() is None
    notices = bed.subscriptions.certification_notices
    await bed.push("certification prevenez-moi", CAMILLE)
    bed.clock.now = dt.datetime(2027, 3, 1, 11, 0, tzinfo=PARIS)  # a Monday
    assert await notices.sweep() == 1
    await bed.deliver()
    # Thirty days on, the outbox's retention deletes the row that said she was told.
    bed.clock.now = dt.datetime(2027, 3, 31, 11, 0, tzinfo=PARIS)
    assert bed.outbox.store.purge_finished_before(bed.clock.now) == 1
    assert await notices.sweep() == 0
    # Someone subscribing now is told of the open session in the reply instead.
    reply = await bed.push("certification prevenez-moi", MARINE)
    text = reply.text.replace("\u00a0", " ")
    assert "Une session est ouverte : Session de mai 2027" in text
    assert "https://inscription.example/certif" in text
    assert len(bodies(bed)) == 1
