"""Fair shares on the real Mattermost: one person's flood of DMs does not hold another
person's answer, and the flooder is told to slow down exactly once (config defaults:
six questions at once, six a minute)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.e2e.bot_process import BotProcess, MattermostUser, now_ms
from tests.mattermost_server import MattermostServer
from tests.waiting import stays

pytestmark = pytest.mark.e2e

FLOOD = 40
SLOW_DOWN = "Doucement"
OTHER_ANSWER_WITHIN_S = 10.0  # generous: unloaded it is tens of milliseconds


@pytest.fixture
def bruno(mattermost: MattermostServer) -> Iterator[MattermostUser]:
    user = MattermostUser(mattermost, "bruno.intra")
    yield user
    user.close()


def test_a_flood_does_not_hold_another_persons_answer(
    mattermost: MattermostServer, bot: BotProcess, alice: MattermostUser, bruno: MattermostUser
) -> None:
    flood_dm = alice.dm_channel_with(mattermost.bot_user_id)
    other_dm = bruno.dm_channel_with(mattermost.bot_user_id)
    since = now_ms()
    for n in range(FLOOD):
        alice.post(flood_dm, "qui sont les référents ?" if n % 2 else "certification")
    asked = time.monotonic()
    question = bruno.post(other_dm, "certification")
    bruno.wait_for_post(
        other_dm,
        lambda p: p["user_id"] == mattermost.bot_user_id and "RS6247" in str(p["message"]),
        timeout=60,
        since_ms=question["create_at"],
    )
    waited = time.monotonic() - asked
    assert waited < OTHER_ANSWER_WITHIN_S, f"the other person waited {waited:.1f} s"

    def from_bot() -> list[str]:
        return [
            str(p["message"])
            for p in alice.posts_in(flood_dm, since)
            if p["user_id"] == mattermost.bot_user_id
        ]

    alice.wait_for_post(
        flood_dm,
        lambda p: p["user_id"] == mattermost.bot_user_id and SLOW_DOWN in str(p["message"]),
        timeout=60,
        since_ms=since,
    )
    # Six answers, one « Doucement », then silence while the share comes back.
    stays(lambda: len(from_bot()) == 7, "six answers and one slow-down, nothing more")
    assert sum(SLOW_DOWN in message for message in from_bot()) == 1
