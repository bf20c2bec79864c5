"""The wiring of `BotApp` against the local scripted REST server: start, serve, reload, stop.

No Mattermost here (the e2e suite has the real one): the scripted server answers the
few calls made at start, which is enough to see the routes served and a clean stop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.answers.question_log import QuestionLog
from bot.app import BotApp, StartupError
from bot.chat import Message, User
from bot.clock import utc_now
from bot.config import load_settings
from bot.invitations.referents import CHANGED, ReferentAccounts
from bot.store import Store
from tests.contract.fake_rest import FakeRest, error, serving

BOT = {"id": "bot-id", "username": "intra-bot", "is_bot": True}
PUBLIC = {"id": "pub", "name": "domaine-intrapreneurs", "display_name": "I", "type": "O", "team_id": "team1"}  # fmt: skip


def settings_for(fake_url: str, tmp_path: Path, content: Path) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.touch()
    return {
        "INTRA_BOT_CONFIG": str(config),
        "INTRA_BOT_MATTERMOST__URL": fake_url,
        "INTRA_BOT_MATTERMOST__TOKEN": "bot-token",
        "INTRA_BOT_HTTP__PORT": "0",
        "INTRA_BOT_HTTP__COMMAND_TOKENS": "cmdtoken",
        "INTRA_BOT_STORE__URL": f"sqlite:///{tmp_path}/store.db",
        "INTRA_BOT_CONTENT__DIR": str(content),
        # No reminder may try to post into the scripted server while the test runs.
        "INTRA_BOT_REMINDERS__ENABLED": "false",
    }


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[FakeRest, str]]:
    async with serving() as (fake, api):
        fake.on("GET", "/users/me", (200, BOT))
        fake.on("GET", "/teams/name/betagouv", (200, {"id": "team1", "name": "betagouv"}))
        fake.on("GET", "/teams/team1/channels/name/domaine-intrapreneurs", (200, PUBLIC))
        fake.on("GET", "/system/ping", (200, {"status": "OK"}))
        yield fake, api.base_url


async def test_the_bot_starts_serves_and_stops(
    scripted: tuple[FakeRest, str], tmp_path: Path, content_copy: Path
) -> None:
    _fake, url = scripted
    bot = BotApp(load_settings(environ=settings_for(url, tmp_path, content_copy)))
    await bot.start()
    try:
        await asyncio.wait_for(bot.ready_event.wait(), timeout=30)
        base = f"http://127.0.0.1:{bot.bound_port}"
        async with httpx.AsyncClient(base_url=base) as client:
            health = await client.get("/healthz")
            # The scripted server has no websocket: not ready, and it says which part.
            assert health.status_code == 503
            parts: dict[str, Any] = health.json()["parts"]
            assert parts["websocket"]["ok"] is False
            assert parts["store"]["ok"] is True and parts["content"]["ok"] is True
            assert parts["questions"] == {"ok": True, "pending": 0, "dropped": 0}
            assert parts["reminders"] == {
                "ok": True,
                "enabled": False,
                "running": True,
                "next": None,
                "last_posted": None,
            }
            ics = await client.get("/club.ics")
            assert ics.headers["Content-Type"] == "text/calendar; charset=utf-8"
            assert ics.text.startswith("BEGIN:VCALENDAR")
            command = await client.post(
                "/mattermost/command",
                data={"token": "cmdtoken", "user_id": "u", "channel_id": "c", "text": "club"},
            )
            assert command.status_code == 200 and "premier jeudi" in command.json()["text"]
            forged = await client.post("/mattermost/command", data={"token": "x"})
            assert forged.status_code == 401
    finally:
        await asyncio.wait_for(bot.stop(), timeout=30)
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):  # stopped: nothing listens any more
            await client.get(f"http://127.0.0.1:{bot.bound_port}/healthz")
    # The question asked (« club ») was recorded, at the latest by the stop's last write.
    store = Store.open(f"sqlite:///{tmp_path}/store.db")
    try:
        day = dt.timedelta(days=1)
        figures = QuestionLog(store).figures(utc_now() - day, utc_now() + day)
        assert figures.per_topic == (("club", 1),)
    finally:
        store.close()


async def test_a_rejected_token_stops_the_start_with_advice(
    scripted: tuple[FakeRest, str], tmp_path: Path, content_copy: Path
) -> None:
    fake, url = scripted
    fake.on("GET", "/users/me", (401, error(401, "api.context.session_expired.app_error")))
    bot = BotApp(load_settings(environ=settings_for(url, tmp_path, content_copy)))
    with pytest.raises(StartupError, match=r"rejected the bot token \(401\)"):
        await asyncio.wait_for(bot.run(), timeout=30)


async def test_a_broken_reload_keeps_the_previous_content(
    tmp_path: Path, content_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = settings_for("http://127.0.0.1:9", tmp_path, content_copy)
    bot = BotApp(load_settings(environ=env))
    try:
        before = bot.content.current
        (content_copy / "role.yaml").write_text("title: [cassé", encoding="utf-8")
        with caplog.at_level(logging.ERROR, logger="bot.app"):
            bot.reload_content()
        assert bot.content.current is before
        assert "event=content_reload_failed" in caplog.text and "role.yaml" in caplog.text
        (content_copy / "role.yaml").unlink()
    finally:
        bot.store.close()
        assert bot.mattermost is not None
        await bot.mattermost.api.close()


async def test_the_help_names_the_configured_private_channel(
    tmp_path: Path, content_copy: Path
) -> None:
    environ = settings_for("http://127.0.0.1:9", tmp_path, content_copy)
    environ["INTRA_BOT_MATTERMOST__PRIVATE_CHANNEL"] = "intras-secret"
    bot = BotApp(load_settings(environ=environ))
    try:
        reply = await bot.conversation.respond(Message("aide", User("u1", "alice"), "c1"))
    finally:
        bot.store.close()
        assert bot.mattermost is not None
        await bot.mattermost.api.close()
    assert "~intras-secret" in reply.text and "domaine-intras-prive" not in reply.text


async def test_healthz_warns_of_a_referent_whose_username_changed_hands(
    scripted: tuple[FakeRest, str], tmp_path: Path, content_copy: Path
) -> None:
    fake, url = scripted
    # Pinned by an earlier start; since then « marine.purson » names another account.
    store = Store.open(f"sqlite:///{tmp_path}/store.db")
    accounts = ReferentAccounts(store, utc_now)
    await accounts.verify(Directory({"marine.purson": "u-marine", "magali.marcel": "u-magali"}), ["marine.purson", "magali.marcel"])  # fmt: skip
    store.close()
    users = [{"id": "attacker999", "username": "marine.purson"}, {"id": "u-magali", "username": "magali.marcel"}]  # fmt: skip
    fake.on("POST", "/users/usernames", (200, users))
    bot = BotApp(load_settings(environ=settings_for(url, tmp_path, content_copy)))
    await bot.start()
    try:
        await asyncio.wait_for(bot.ready_event.wait(), timeout=30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bot.bound_port}") as client:
            for _ in range(100):
                parts: dict[str, Any] = (await client.get("/healthz")).json()["parts"]
                if "referents" in parts and not parts["referents"]["ok"]:
                    break
                await asyncio.sleep(0.05)
        assert parts["referents"] == {
            "ok": False,
            "held": {"mattermost": {"marine.purson": CHANGED}},
        }
        assert not await bot.invitations.is_referent(User("attacker999", "marine.purson"))
        assert await bot.invitations.is_referent(User("u-magali", "magali.marcel"))
    finally:
        await asyncio.wait_for(bot.stop(), timeout=30)


class Directory:
    name = "mattermost"

    def __init__(self, ids: dict[str, str]) -> None:
        self.ids = ids

    async def user_ids(self, usernames: list[str]) -> dict[str, str]:
        return {name: self.ids[name] for name in usernames if name in self.ids}
