"""The certification's and the newcomers' personal messages on the real Synapse: the whole
`BotApp` (Matrix only), a real E2EE user.

A newcomer joins the public room: welcomed once, and followed up once when the (shortened)
follow-up delay has passed. She subscribes to the certification; when editors publish a
session (content reloaded), she gets its announcement by encrypted DM, once, with the
sign-up link and how to stop. Quiet hours are off: the test may run at night.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.app import BotApp
from tests.e2e.bot_process import free_port
from tests.e2e_matrix.apps import direct_message, matrix_only, new_user, started
from tests.e2e_matrix.conftest import SynapseServer
from tests.e2e_matrix.nio_user import Seen
from tests.integration.harness import write_content

pytestmark = pytest.mark.e2e

SIGNUP = "https://inscription.example/certification-e2e"
FOLLOW_UP_DAYS = 8 / 86_400  # eight seconds


def body(event: Seen) -> str:
    return str(event.content.get("body", ""))


def publish_session(content: Path) -> None:
    today = dt.date.today()
    path = content / "certification.yaml"
    topic = yaml.safe_load(path.read_text(encoding="utf-8"))
    topic["session"] = {
        "title": "Session de test",
        "starts": (today + dt.timedelta(days=40)).isoformat(),
        "signup_url": SIGNUP,
        "deadline": (today + dt.timedelta(days=30)).isoformat(),
    }
    path.write_text(yaml.safe_dump(topic, allow_unicode=True, sort_keys=False), encoding="utf-8")


async def test_a_newcomer_is_followed_up_once_and_told_of_a_published_session_once(
    synapse: SynapseServer, bot_home: Path, tmp_path: Path
) -> None:
    content = write_content(tmp_path / "content", [])
    port = free_port()
    settings = matrix_only(
        synapse,
        f"sqlite:///{bot_home / 'intra-bot.sqlite3'}",
        http={"port": port, "public_url": f"http://127.0.0.1:{port}"},
        content={"dir": str(content)},
        subscriptions={
            "sweep_seconds": 1,
            "quiet_hours": False,
            "newcomer_follow_up_days": FOLLOW_UP_DAYS,
        },
    )
    app: BotApp = await started(settings)
    lea = await new_user(synapse, tmp_path, display_name="Léa")
    bot = synapse.bot_user_id
    try:
        mark = lea.mark()
        await lea.client.join(synapse.public_room_id)
        await lea.wait_joined(synapse.public_room_id, lea.user_id)
        welcome = await direct_message(
            lea, bot, "the welcome", lambda e: "Bienvenue" in body(e), after=mark
        )
        dm = welcome.room_id

        await lea.send_text(synapse.public_room_id, "!intra certification prevenez-moi")
        subscribed = await direct_message(
            lea, bot, "the subscription", lambda e: "C'est noté" in body(e), after=mark
        )
        assert "`!intra certification stop`" in body(subscribed)

        publish_session(content)
        app.reload_content()
        announced = await lea.wait_for(
            "the session's announcement",
            lambda e: e.sender == bot and "une session est ouverte" in body(e),
            after=mark,
            timeout=30,
        )
        assert announced.room_id == dm and announced.encrypted, announced
        assert SIGNUP in body(announced) and "`!intra certification stop`" in body(announced)

        followed = await lea.wait_for(
            "the follow-up",
            lambda e: e.sender == bot and "trois pistes" in body(e),
            after=mark,
            timeout=60,
        )
        assert followed.room_id == dm and followed.encrypted, followed
        assert "`!intra club prevenez-moi`" in body(followed)

        await asyncio.sleep(2)  # a few more sweeps: nothing is told twice
        await lea.sync(timeout_ms=1000)
        told = [e for e in lea.seen if e.room_id == dm and e.sender == bot]
        assert len([e for e in told if "une session est ouverte" in body(e)]) == 1
        assert len([e for e in told if "trois pistes" in body(e)]) == 1
        assert len([e for e in told if "Bienvenue" in body(e)]) == 1
    finally:
        await lea.close()
        await app.stop()
