"""« Prévenez-moi » on the real Synapse: the whole `BotApp` (Matrix only), real E2EE users.

Two newcomers subscribe to the club with `!intra club prevenez-moi` in the public room
(the reply comes by encrypted DM); one leaves the room, which ends his subscription. The club is then moved into the
next two minutes (content reloaded) with `club_before = "2min"`: the notice is due now.
The subscriber gets one encrypted DM, in Tchap's words, whose calendar link gives a valid
invitation (icalendar); after « club stop » the link is gone; the one who left got nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import httpx
import icalendar
import pytest
from nio import RoomLeaveResponse

from bot.app import BotApp
from tests.e2e.bot_process import free_port
from tests.e2e_matrix.apps import direct_message, matrix_only, new_user, started, until
from tests.e2e_matrix.conftest import SynapseServer
from tests.e2e_matrix.nio_user import NioUser, Seen
from tests.integration.harness import club_at, write_content

pytestmark = pytest.mark.e2e

LINK = re.compile(r"http://127\.0\.0\.1:\d+/abonnements/\S+?\.ics")


def body(event: Seen) -> str:
    return str(event.content.get("body", ""))


async def subscribe(user: NioUser, synapse: SynapseServer) -> str:
    """Join the public room, ask there; the DM room the private answer came in."""
    await user.client.join(synapse.public_room_id)
    await user.wait_joined(synapse.public_room_id, user.user_id)
    mark = user.mark()
    await user.send_text(synapse.public_room_id, "!intra club prevenez-moi")
    answer = await direct_message(
        user, synapse.bot_user_id, "the subscription", lambda e: "C'est noté" in body(e), after=mark
    )
    assert answer.encrypted and "`!intra club stop`" in body(answer), answer
    return answer.room_id


async def ask(user: NioUser, room: str, bot: str, text: str, expected: str) -> Seen:
    mark = user.mark()
    await user.send_text(room, text)
    return await user.wait_for(
        expected, lambda e: e.sender == bot and expected in body(e), after=mark
    )


async def test_a_subscriber_gets_the_club_notice_by_encrypted_dm_and_nothing_after_stop(
    synapse: SynapseServer, bot_home: Path, tmp_path: Path
) -> None:
    content = write_content(tmp_path / "content", [])
    port = free_port()
    settings = matrix_only(
        synapse,
        f"sqlite:///{bot_home / 'intra-bot.sqlite3'}",
        http={"port": port, "public_url": f"http://127.0.0.1:{port}"},
        content={"dir": str(content)},
        subscriptions={"club_before": "2min", "club_at": "", "sweep_seconds": 1},
    )
    app: BotApp = await started(settings)
    ana = await new_user(synapse, tmp_path, display_name="Ana")
    ben = await new_user(synapse, tmp_path, display_name="Ben")
    bot = synapse.bot_user_id
    try:
        ana_dm = await subscribe(ana, synapse)
        ben_dm = await subscribe(ben, synapse)
        # Ben leaves the public room: he has left the community, his subscription ends.
        left = await ben.client.room_leave(synapse.public_room_id)
        assert isinstance(left, RoomLeaveResponse), left
        records = app.subscriptions.records
        await until("Ben unsubscribed", lambda: records.get("matrix", ben.user_id, "club") is None)

        start = dt.datetime.fromtimestamp(int(time.time()) + 100, dt.UTC)
        write_content(content, [], exceptions=[club_at(start)])
        app.reload_content()
        mark = ana.mark()
        notice = await ana.wait_for(
            "the club notice",
            lambda e: e.room_id == ana_dm and e.sender == bot and "Club intras" in body(e),
            after=mark,
            timeout=20,
        )
        assert notice.encrypted and not notice.undecryptable, notice
        text = body(notice)
        assert "aujourd'hui" in text and "`!intra club stop`" in text and "/intra" not in text
        assert notice.content["m.mentions"] == {}
        url = LINK.search(text)
        assert url is not None, text
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url[0])
            assert response.status_code == 200
            calendar = icalendar.Calendar.from_ical(response.content)
            assert str(calendar["METHOD"]) == "REQUEST"
            [event] = calendar.walk("VEVENT")
            assert event.decoded("dtstart") == start
            assert str(event["UID"]).startswith("club-intras-")

            await ask(ana, ana_dm, bot, "club stop", "C'est arrêté")
            assert (await client.get(url[0])).status_code == 404
        await ben.sync(timeout_ms=1000)
        await ben.sync(timeout_ms=1000)
        # In their DMs (the public room has the club's public reminders of other tests).
        assert not [e for e in ben.seen if e.room_id == ben_dm and "Club intras" in body(e)]
        notices = [e for e in ana.seen if e.room_id == ana_dm and "Club intras" in body(e)]
        assert len(notices) == 1
    finally:
        await ana.close()
        await ben.close()
        await app.stop()
