"""« Prévenez-moi » on the real Mattermost: a real `intra-bot run` process, real users.

Three new intras subscribe to the club by DM; one stops at once, one's account is
deactivated (he is unsubscribed, with its log line). Then the club is moved
into the next two minutes (content edited, SIGHUP) with `club_before = "2min"`: the notice
is due now, not tomorrow. The one still subscribed gets one DM whose calendar link gives
a valid invitation (parsed with icalendar and expanded by recurring_ical_events); the club
moved again, the same link gives the new time and a DM tells the change; after « club stop »
the link is gone, and the one who stopped got nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
import recurring_ical_events

from tests.e2e.bot_process import (
    BotProcess,
    MattermostUser,
    bot_environment,
    create_intra,
    free_port,
    now_ms,
)
from tests.integration.harness import club_at, write_content
from tests.mattermost_server import MattermostServer

pytestmark = pytest.mark.e2e

PASSWORD = "Subscriber-e2e-1!"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/abonnements/\S+?\.ics")


class Intra(MattermostUser):
    """A new intra of the public channel, logged in with their own session."""

    def __init__(self, server: MattermostServer, username: str) -> None:
        self.server = server
        self.username = username
        self.id = create_intra(server, username, PASSWORD)
        self.client = server.client(server.login(username, PASSWORD))
        self.dm = self.dm_channel_with(server.bot_user_id)

    def ask(self, text: str, expected: str) -> dict[str, Any]:
        since = now_ms()
        self.post(self.dm, text)
        return self.wait_for_post(self.dm, lambda p: self._from_bot(p, expected), since_ms=since)

    def bot_posts(self, needle: str) -> list[dict[str, Any]]:
        return [p for p in self.posts_in(self.dm) if self._from_bot(p, needle)]

    def _from_bot(self, post: dict[str, Any], needle: str) -> bool:
        return post["user_id"] == self.server.bot_user_id and needle in str(post["message"])


def _reload(bot: BotProcess, content: Path, start: dt.datetime) -> None:
    write_content(content, [], exceptions=[club_at(start)])
    assert bot.process is not None
    os.kill(bot.process.pid, signal.SIGHUP)


def _calendar(url: str) -> icalendar.Calendar:
    response = httpx.get(url, timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def test_a_subscriber_gets_the_club_notice_with_its_invitation_and_nothing_after_stop(
    mattermost: MattermostServer, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    content = write_content(tmp_path / "content", [])
    port = free_port()
    env = bot_environment(
        mattermost,
        port,
        f"sqlite:///{tmp_path / 'store.db'}",
        INTRA_BOT_CONTENT__DIR=str(content),
        INTRA_BOT_LOGGING__LEVEL="INFO",
        INTRA_BOT_REMINDERS__ENABLED="false",
        INTRA_BOT_SUBSCRIPTIONS__CLUB_BEFORE="2min",
        INTRA_BOT_SUBSCRIPTIONS__CLUB_AT="",
        INTRA_BOT_SUBSCRIPTIONS__SWEEP_SECONDS="1",
    )
    bot = BotProcess(env, tmp_path / "bot.log").start()
    ana, ben = Intra(mattermost, f"ana-{tag}"), Intra(mattermost, f"ben-{tag}")
    carl = Intra(mattermost, f"carl-{tag}")
    try:
        subscribed = ana.ask("club prevenez-moi", "C'est noté")
        assert "`/intra club stop`" in subscribed["message"]
        ben.ask("club prévenez-moi", "C'est noté")
        ben.ask("club stop", "C'est arrêté")
        listed = ana.ask("mes-abonnements", "Vos rappels personnels")
        assert "le club intras" in listed["message"]
        # Carl subscribes, then his account is deactivated: he has left, and is unsubscribed.
        carl.ask("club prevenez-moi", "C'est noté")
        with mattermost.client(mattermost.admin_token) as admin:
            admin.delete(f"/users/{carl.id}").raise_for_status()
        # His club subscription and his pending follow-up (he was welcomed) end together.
        gone = (
            "event=unsubscribed kinds=club,newcomer platform=mattermost "
            f"user_id={carl.id} reason=left"
        )
        deadline = time.monotonic() + 10
        while gone not in bot.log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert gone in bot.log_text()

        # The club now starts in 100 s: its notice (2 min before) is due at once.
        start = dt.datetime.fromtimestamp(int(time.time()) + 100, dt.UTC)
        _reload(bot, content, start)
        notice = ana.wait_for_post(
            ana.dm, lambda p: ana._from_bot(p, "Club intras aujourd'hui"), timeout=15
        )
        text = notice["message"]
        assert "forum mensuel" in text and "`/intra club stop`" in text
        url = LINK.search(text)
        assert url is not None, text
        calendar = _calendar(url[0])
        assert str(calendar["METHOD"]) == "REQUEST"
        [event] = calendar.walk("VEVENT")
        assert event.decoded("dtstart") == start
        uid = str(event["UID"])
        assert uid.startswith("club-intras-") and uid.endswith("@intra-bot")
        found = recurring_ical_events.of(calendar).between(start, start + dt.timedelta(hours=1))
        assert [str(e["UID"]) for e in found] == [uid]

        # Moved ten minutes later: the same link gives the new time, under the same UID.
        time.sleep(1.1)  # a later second: a higher SEQUENCE
        moved = start + dt.timedelta(minutes=10)
        _reload(bot, content, moved)
        deadline = time.monotonic() + 10
        while True:
            [again] = _calendar(url[0]).walk("VEVENT")
            if again.decoded("dtstart") == moved or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert again.decoded("dtstart") == moved
        assert str(again["UID"]) == uid and int(again["SEQUENCE"]) > int(event["SEQUENCE"])
        # And Ana, told the former time, is told the new one, once.
        change = ana.wait_for_post(ana.dm, lambda p: ana._from_bot(p, "change de date"), timeout=15)
        assert "au lieu du" in change["message"] and "`/intra club stop`" in change["message"]

        ana.ask("club stop", "C'est arrêté")
        assert httpx.get(url[0], timeout=5).status_code == 404
        time.sleep(2)  # two more sweeps
        assert len(ana.bot_posts("Club intras aujourd'hui")) == 1
        assert len(ana.bot_posts("change de date")) == 1
        assert ben.bot_posts("Club intras") == []
        assert bot.log_text().count("event=club_notice_sent") == 1  # not Ben's, not Carl's
    finally:
        bot.stop()
        ana.close()
        ben.close()
        carl.close()
