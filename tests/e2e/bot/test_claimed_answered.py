"""Claimed means answered, on the real server: the bot SIGKILLed between claiming a DM and
posting its reply (the reply's POST held by a loopback proxy), then started again on the
same store: the question is answered, exactly once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.bot.test_durability import bot_replies, events_of, sigkill
from tests.e2e.bot_process import BotProcess, MattermostUser
from tests.e2e.tcp_proxy import TcpProxy
from tests.mattermost_server import MattermostServer

pytestmark = pytest.mark.e2e

LEASE_S = 4


def killed_while_replying(
    mattermost: MattermostServer,
    bot_env: dict[str, str],
    proxied: TcpProxy,
    alice: MattermostUser,
    tmp_path: Path,
    *,
    reply_reaches_mattermost: bool,
) -> tuple[str, int, BotProcess]:
    """A DM claimed by a first bot killed on its reply's POST; a second bot on the same store,
    running. Returns the DM, the question's time, and the second bot."""
    env = {
        **bot_env,
        "INTRA_BOT_MATTERMOST__URL": proxied.url,
        "INTRA_BOT_ANSWERS__CLAIM_LEASE_SECONDS": str(LEASE_S),
    }
    first = BotProcess(env, tmp_path / "first.log").start()
    dm = alice.dm_channel_with(mattermost.bot_user_id)
    if reply_reaches_mattermost:
        proxied.hold_response(b"POST /api/v4/posts ")
    else:
        proxied.hold_request(b"POST /api/v4/posts ")
    question = alice.post(dm, "certification")
    assert proxied.held.wait(20), events_of(first)
    sigkill(first)
    proxied.release()
    assert "event=replied" not in first.log_text()
    return dm, question["create_at"], BotProcess(env, tmp_path / "second.log").start()


def test_a_dm_claimed_by_a_bot_killed_before_its_reply_is_answered_after_restart(
    mattermost: MattermostServer,
    bot_env: dict[str, str],
    proxied: TcpProxy,
    alice: MattermostUser,
    tmp_path: Path,
) -> None:
    dm, asked_at, second = killed_while_replying(
        mattermost, bot_env, proxied, alice, tmp_path, reply_reaches_mattermost=False
    )
    try:
        reply = alice.wait_for_post(
            dm,
            lambda p: p["user_id"] == mattermost.bot_user_id and "RS6247" in p["message"],
            since_ms=asked_at,
            timeout=40,
        )
        assert reply["props"].get("intra_bot_marker", "").startswith("reply:")
        assert "event=answer_taken_over" in second.log_text(), events_of(second)
        time.sleep(LEASE_S * 2)  # a second look, a catch-up: nothing more
        assert len(bot_replies(alice, dm, asked_at)) == 1, events_of(second)
    finally:
        second.stop()


def test_a_reply_posted_just_before_the_bot_was_killed_is_not_posted_again(
    mattermost: MattermostServer,
    bot_env: dict[str, str],
    proxied: TcpProxy,
    alice: MattermostUser,
    tmp_path: Path,
) -> None:
    dm, asked_at, second = killed_while_replying(
        mattermost, bot_env, proxied, alice, tmp_path, reply_reaches_mattermost=True
    )
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and "event=answer_taken_over" not in second.log_text():
            time.sleep(0.2)
        assert "event=answer_taken_over" in second.log_text(), events_of(second)
        time.sleep(LEASE_S * 2)
        replies = bot_replies(alice, dm, asked_at)
        assert len(replies) == 1 and "RS6247" in replies[0]["message"], events_of(second)
        assert "event=outbox_already_sent" in second.log_text()
    finally:
        second.stop()
