"""Club reminders on the real server: posted exactly once across restarts, the takeover
check through the post's marker, the club's iCalendar feed and the « club » DM.

The bot runs as `intra-bot run` (three successive processes, one SQLite store) with a
copy of the content whose club starts in about two minutes. No fixture here runs
`intra-bot setup`: the slash command is not needed, and re-registering it would race with
the other e2e sessions.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest

from bot import french
from bot.adapters.mattermost.poster import MARKER_PROP
from bot.store import Store
from tests.e2e.bot_process import BotProcess, MattermostUser, bot_environment, free_port
from tests.integration.harness import PARIS, club_at, planned_for, reminder, write_content
from tests.mattermost_server import MattermostServer

pytestmark = pytest.mark.e2e

DUE_AFTER = 10.0  # seconds from the test's start to the first reminder


def _sleep_until(instant: float) -> None:
    time.sleep(max(0.0, instant - time.time()))


def _posts_with(user: MattermostUser, channel_id: str, text: str, since_ms: int) -> list[Any]:
    return [post for post in user.posts_in(channel_id, since_ms) if text in post["message"]]


def test_a_reminder_missed_during_a_restart_is_posted_once_and_never_again(
    mattermost: MattermostServer, alice: MattermostUser, tmp_path: Path
) -> None:
    t0 = math.ceil(time.time())
    since_ms = (t0 - 2) * 1000
    tag = uuid.uuid4().hex[:8]
    start = dt.datetime.fromtimestamp(t0 + DUE_AFTER + 115, dt.UTC)
    # r1: due DUE_AFTER seconds from now, while the bot is down between two runs.
    # r2: already due; a replica that died claimed it and did post it (the marked post
    # below) but never recorded it: the takeover must find that post and not post again.
    first, second = f"Rappel e2e {tag} numéro un", f"Rappel e2e {tag} numéro deux"
    content = write_content(
        tmp_path / "content",
        [
            reminder(f"e2e-{tag}-r1", "115s", text=first),
            reminder(f"e2e-{tag}-r2", "300s", text=second),
        ],
        exceptions=[club_at(start)],
    )
    planned = {item.reminder.id: item for item in planned_for(content, start, f"e2e-{tag}-")}
    r1, r2 = planned[f"e2e-{tag}-r1"], planned[f"e2e-{tag}-r2"]
    assert (r1.at.timestamp(), r2.at.timestamp()) == (t0 + DUE_AFTER, t0 + DUE_AFTER - 185)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    lease_end = t0 + DUE_AFTER + 6
    ghost_claimed = dt.datetime.fromtimestamp(t0 - 60, dt.UTC)
    store = Store.open(store_url)
    assert store.claim_reminder(
        r2.key, "ghost", ghost_claimed, dt.timedelta(seconds=lease_end - (t0 - 60))
    )
    store.close()
    with mattermost.client(mattermost.bot_token) as as_bot:
        response = as_bot.post(
            "/posts",
            json={
                "channel_id": mattermost.public_channel_id,
                "message": second + " (publié avant la panne)",
                "props": {MARKER_PROP: f"reminder:{r2.key}"},
            },
        )
        response.raise_for_status()
        ghost_post = response.json()["id"]

    port = free_port()
    env = bot_environment(
        mattermost,
        port,
        store_url,
        INTRA_BOT_CONTENT__DIR=str(content),
        INTRA_BOT_LOGGING__LEVEL="INFO",
    )
    log_path = tmp_path / "bot.log"

    # Run 1: starts, plans r1, and is stopped before it is due.
    bot = BotProcess(env, log_path).start()
    bot.stop()
    assert time.time() < t0 + DUE_AFTER, "the first run stopped too late for the scenario"
    assert "event=reminder_claimed" not in bot.logs()
    assert f"next={r1.key}" in bot.logs()  # it had a date job for r1

    # Run 2: after the due time; its start-up sweep posts r1; r2's dead holder still has the lease.
    _sleep_until(t0 + DUE_AFTER + 0.2)
    bot = BotProcess(env, log_path).start()
    try:
        post = alice.wait_for_post(
            mattermost.public_channel_id,
            lambda post: first in post["message"],
            timeout=10,
            since_ms=since_ms,
        )
        assert post["user_id"] == mattermost.bot_user_id
        assert post["props"][MARKER_PROP] == f"reminder:{r1.key}"
        assert "club aujourd'hui" in post["message"] or "club demain" in post["message"]
        late = post["create_at"] / 1000 - (t0 + DUE_AFTER)
        assert late < 5, f"posted {late:.1f} s after its time"
    finally:
        bot.stop()
    assert time.time() < lease_end, "the second run stopped after the ghost's lease"

    # Run 3: r1 stays posted; r2 is taken over, and its marked post found on the server.
    _sleep_until(lease_end + 0.2)
    bot = BotProcess(env, log_path).start()
    try:
        deadline = time.monotonic() + 10
        found = f"event=reminder_found_already_posted key={r2.key} post_id={ghost_post}"
        while found not in bot.logs() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert found in bot.logs()
        assert len(_posts_with(alice, mattermost.public_channel_id, first, since_ms)) == 1
        assert len(_posts_with(alice, mattermost.public_channel_id, second, since_ms)) == 1
        run3 = bot.logs().split("event=http_listening")[-1]
        assert "event=reminder_posted" not in run3

        _check_club_ics(bot, start)
        _check_club_dm(mattermost, alice, start)
    finally:
        bot.stop()
    store = Store.open(store_url)
    try:
        assert store.reminder_states([r1.key, r2.key]) == {r1.key: "posted", r2.key: "posted"}
    finally:
        store.close()


def _check_club_ics(bot: BotProcess, start: dt.datetime) -> None:
    response = httpx.get(bot.url + "/club.ics", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    starts = [event.decoded("DTSTART") for event in events]
    assert starts[0] == start  # the moved club, first
    assert len(starts) >= 12
    for later in starts[1:]:  # then the rule: first Thursdays at 16:00, Paris time
        local = later.astimezone(PARIS)
        assert (local.weekday(), local.day <= 7, local.hour, local.minute) == (3, True, 16, 0)
    assert all(str(event["SUMMARY"]) == "Club intras" for event in events)


def _check_club_dm(server: MattermostServer, alice: MattermostUser, start: dt.datetime) -> None:
    dm = alice.dm_channel_with(server.bot_user_id)
    question = alice.post(dm, "club")
    day = french.day(start.astimezone(PARIS).date())
    # Any other bot process on this account answers too, from its own content: ours names our day.
    alice.wait_for_post(
        dm,
        lambda post: (
            post["user_id"] == server.bot_user_id
            and "Le prochain club" in post["message"]
            and day in post["message"]
        ),
        timeout=10,
        since_ms=question["create_at"],
    )
