"""Personal reminders from two replicas on the real Mattermost, one of them SIGKILLed while
sending: every subscriber gets the club's notice once.

Two `intra-bot run` processes share one store. The first talks to Mattermost through a
loopback proxy that lets its first notice reach the server (the DM exists) and keeps the
answer from it; the second replica is up beside it when the first is SIGKILLed there. The
second takes the dead one's leased rows over when their lease ends, finds the DM already
made instead of sending it again, and sends the rest. The subscriptions are written into
the store before the bots start (the commands themselves: test_subscriptions_e2e.py).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest

from bot.store import Store
from bot.subscriptions.records import SubscriptionRecords
from bot.subscriptions.schema import CLUB
from tests.e2e.bot.test_durability import sigkill
from tests.e2e.bot.test_subscriptions_e2e import Intra
from tests.e2e.bot_process import BotProcess, bot_environment, free_port
from tests.e2e.tcp_proxy import TcpProxy
from tests.integration.harness import club_at, write_content
from tests.mattermost_server import MattermostServer

pytestmark = pytest.mark.e2e

SUBSCRIBERS = 6
NOTICE = "Club intras aujourd'hui"


def test_a_replica_killed_while_sending_the_club_notices_doubles_none_and_loses_none(
    mattermost: MattermostServer, proxied: TcpProxy, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    intras = [Intra(mattermost, f"rep{n}-{tag}") for n in range(SUBSCRIBERS)]
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store.open(store_url)
    records = SubscriptionRecords(store)
    now = dt.datetime.now(dt.UTC)
    for intra in intras:
        records.subscribe("mattermost", intra.id, CLUB, now)
    store.close()
    # The club starts in 100 s and its notice goes 2 min before: due as soon as a bot sweeps.
    start = dt.datetime.fromtimestamp(int(time.time()) + 100, dt.UTC)
    content = write_content(tmp_path / "content", [], exceptions=[club_at(start)])

    def environment(url: str) -> dict[str, str]:
        port = free_port()
        return bot_environment(
            mattermost,
            port,
            store_url,
            INTRA_BOT_MATTERMOST__URL=url,
            INTRA_BOT_CONTENT__DIR=str(content),
            INTRA_BOT_REMINDERS__ENABLED="false",
            INTRA_BOT_SUBSCRIPTIONS__CLUB_BEFORE="2min",
            INTRA_BOT_SUBSCRIPTIONS__CLUB_AT="",
            INTRA_BOT_SUBSCRIPTIONS__SWEEP_SECONDS="1",
            INTRA_BOT_OUTBOX__LEASE_SECONDS="3",
        )

    proxied.hold_response(b"POST /api/v4/posts ")
    first = BotProcess(environment(proxied.url), tmp_path / "first.log").start()
    second = BotProcess(environment(mattermost.url), tmp_path / "second.log")
    try:
        assert proxied.held.wait(30), first.logs()
        second.start()
        sigkill(first)  # its DM is on Mattermost; the answer never reached it
        proxied.release()
        # The dead one's row comes back to the survivor when its lease ends: that retry is
        # where a double would be made, so it must have happened before counting.
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and (
            "event=outbox_already_sent" not in second.log_text()
            or not all(i.bot_posts(NOTICE) for i in intras)
        ):
            time.sleep(0.5)
        assert "event=outbox_already_sent" in second.log_text(), second.log_text()[-6000:]
        time.sleep(2)  # a few more sweeps
        counts = {intra.username: len(intra.bot_posts(NOTICE)) for intra in intras}
        assert counts == {intra.username: 1 for intra in intras}, (
            f"{counts}\n{first.log_text()[-3000:]}\n{second.log_text()[-6000:]}"
        )
        sent = first.log_text().count("event=club_notice_sent")
        assert sent + second.log_text().count("event=club_notice_sent") == SUBSCRIBERS
    finally:
        second.stop()
        if first.process is not None and first.process.poll() is None:
            first.stop()
        for intra in intras:
            intra.close()
