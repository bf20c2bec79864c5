"""The catch-up in a busy channel, on the real server: `GET /channels/{id}/posts?since=`
gives at most 1000 posts, the oldest ones, so a question behind more than 1000 posts
made while the bot was stopped must be read back a page at a time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.bot_process import BotProcess, MattermostUser
from tests.mattermost_server import MattermostServer

pytestmark = pytest.mark.e2e


def test_a_dm_behind_1000_posts_made_while_the_bot_was_stopped_is_answered(
    mattermost: MattermostServer, bot_env: dict[str, str], tmp_path: Path
) -> None:
    bruno = MattermostUser(mattermost, "bruno.intra")
    first = BotProcess(bot_env, tmp_path / "first.log").start()
    try:
        dm = bruno.dm_channel_with(mattermost.bot_user_id)
        opened = bruno.post(dm, "bonjour")  # answered live: the store's mark is past it
        bruno.wait_for_post(
            dm, lambda p: p["user_id"] == mattermost.bot_user_id, since_ms=opened["create_at"]
        )
    finally:
        first.stop()
    with mattermost.client(mattermost.bot_token) as bot, ThreadPoolExecutor(4) as pool:
        # 1001 posts of the bot's (the welcomes and notices of a busy day), then a question
        body = {"channel_id": dm, "message": "note"}
        list(pool.map(lambda _: bot.post("/posts", json=body).raise_for_status(), range(1001)))
    question = bruno.post(dm, "certification")
    second = BotProcess(bot_env, tmp_path / "second.log").start()
    try:
        reply = bruno.wait_for_post(
            dm,
            lambda p: p["user_id"] == mattermost.bot_user_id and "RS6247" in p["message"],
            since_ms=question["create_at"],
            timeout=60,
        )
        assert reply["create_at"] > question["create_at"]
        assert "event=catchup_post post_id=" + question["id"] in second.log_text()
    finally:
        second.stop()
        bruno.close()
