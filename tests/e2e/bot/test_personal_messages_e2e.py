"""The certification's and the newcomers' personal messages on the real Mattermost: a real
`intra-bot run` process, a real newcomer.

She joins the public channel: welcomed once, and followed up once when the (shortened)
follow-up delay has passed. She subscribes to the certification; when editors publish a
session (content edited, SIGHUP), she gets its announcement by DM, once, with the sign-up
link and how to stop. Quiet hours are off: the test may run at night.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.bot.test_subscriptions_e2e import Intra
from tests.e2e.bot_process import BotProcess, bot_environment, free_port
from tests.e2e_matrix.test_matrix_personal_messages import FOLLOW_UP_DAYS, SIGNUP, publish_session
from tests.integration.harness import write_content
from tests.mattermost_server import MattermostServer

pytestmark = pytest.mark.e2e


def test_a_newcomer_is_followed_up_once_and_told_of_a_published_session_once(
    mattermost: MattermostServer, tmp_path: Path
) -> None:
    content = write_content(tmp_path / "content", [])
    port = free_port()
    env = bot_environment(
        mattermost,
        port,
        f"sqlite:///{tmp_path / 'store.db'}",
        INTRA_BOT_CONTENT__DIR=str(content),
        INTRA_BOT_LOGGING__LEVEL="INFO",
        INTRA_BOT_REMINDERS__ENABLED="false",
        INTRA_BOT_SUBSCRIPTIONS__SWEEP_SECONDS="1",
        INTRA_BOT_SUBSCRIPTIONS__QUIET_HOURS="false",
        INTRA_BOT_SUBSCRIPTIONS__NEWCOMER_FOLLOW_UP_DAYS=str(FOLLOW_UP_DAYS),
    )
    bot = BotProcess(env, tmp_path / "bot.log").start()
    # create_intra puts her in the public channel: a newcomer, welcomed by DM.
    lea = Intra(mattermost, f"lea-{uuid.uuid4().hex[:6]}")
    try:
        lea.wait_for_post(lea.dm, lambda p: lea._from_bot(p, "Bienvenue"), timeout=20)
        subscribed = lea.ask("certification prevenez-moi", "C'est noté")
        assert "`/intra certification stop`" in subscribed["message"]

        publish_session(content)
        assert bot.process is not None
        os.kill(bot.process.pid, signal.SIGHUP)
        announced = lea.wait_for_post(
            lea.dm, lambda p: lea._from_bot(p, "une session est ouverte"), timeout=30
        )
        assert SIGNUP in announced["message"]
        assert "`/intra certification stop`" in announced["message"]

        followed = lea.wait_for_post(lea.dm, lambda p: lea._from_bot(p, "trois pistes"), timeout=60)
        assert "`/intra club prevenez-moi`" in followed["message"]

        time.sleep(2)  # a few more sweeps: nothing is told twice
        assert len(lea.bot_posts("une session est ouverte")) == 1
        assert len(lea.bot_posts("trois pistes")) == 1
        assert len(lea.bot_posts("Bienvenue")) == 1
        log = bot.log_text()
        assert log.count("event=certification_notice_sent") == 1
        assert log.count("event=newcomer_followed_up") == 1
    finally:
        bot.stop()
        lea.close()
