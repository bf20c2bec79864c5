"""The bot on the real Mattermost server: slash command, DMs, mentions, welcome,
setup, restarts and drops. No mock stands in for the server."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.bot_process import (
    BotProcess,
    MattermostUser,
    create_intra,
    free_port,
    now_ms,
    restore_bot_in_private_channel,
    run_setup,
)
from tests.e2e.tcp_proxy import TcpProxy
from tests.mattermost_server import SCRIPT, MattermostServer
from tests.waiting import stays, until

pytestmark = pytest.mark.e2e


def is_bot_reply(server: MattermostServer, needle: str, root_id: str | None = None):  # type: ignore[no-untyped-def]
    def predicate(post: dict[str, object]) -> bool:
        return (
            post["user_id"] == server.bot_user_id
            and needle in str(post["message"])
            and (root_id is None or post["root_id"] == root_id)
        )

    return predicate


def test_slash_commands_through_the_server(
    mattermost: MattermostServer, bot: BotProcess, alice: MattermostUser
) -> None:
    channel = mattermost.public_channel_id
    referents = alice.run_command(channel, "/intra referents")
    assert "Marine Purson" in referents["text"]
    assert "magali.marcel@beta.gouv.fr" in referents["text"]
    certification = alice.run_command(channel, "/intra certification")
    assert "Concevoir un service numérique public" in certification["text"]
    unknown = alice.run_command(channel, "/intra xyz")
    assert "Je n'ai pas de réponse sûre" in unknown["text"]
    assert "marine.purson@beta.gouv.fr" in unknown["text"]  # the honest answer names who helps
    assert "/intra aide" in unknown["text"]


def test_dm_is_answered_in_the_dm(
    mattermost: MattermostServer, bot: BotProcess, alice: MattermostUser
) -> None:
    dm = alice.dm_channel_with(mattermost.bot_user_id)
    since = now_ms()
    alice.post(dm, "certification")
    reply = alice.wait_for_post(dm, is_bot_reply(mattermost, "RS6247"), since_ms=since)
    assert reply["channel_id"] == dm
    question = alice.post(dm, "qui sont les référents ?")
    alice.wait_for_post(
        dm, is_bot_reply(mattermost, "responsable de partenariat"), since_ms=question["create_at"]
    )


def test_mention_is_answered_in_its_thread_and_own_posts_never_trigger(
    mattermost: MattermostServer, bot: BotProcess, alice: MattermostUser
) -> None:
    channel = mattermost.public_channel_id
    question = alice.post(channel, f"@{mattermost.bot_username} club ({uuid.uuid4().hex[:6]})")
    reply = alice.wait_for_post(
        channel,
        is_bot_reply(mattermost, "premier jeudi", root_id=question["id"]),
        since_ms=question["create_at"],
    )
    # The bot mentions nobody, and its own post (or one it makes mentioning itself) starts nothing.
    with mattermost.client(mattermost.bot_token) as as_bot:
        own = as_bot.post(
            "/posts", json={"channel_id": channel, "message": f"@{mattermost.bot_username} aide"}
        ).json()

    def bot_post_ids() -> set[str]:
        return {
            p["id"]
            for p in alice.posts_in(channel, since_ms=question["create_at"])
            if p["user_id"] == mattermost.bot_user_id
        }

    stays(
        lambda: bot_post_ids() == {reply["id"], own["id"]},
        "the bot's only posts are its reply and its own mention",
    )


def test_newcomer_of_the_public_channel_gets_a_welcome_dm(
    mattermost: MattermostServer, bot: BotProcess
) -> None:
    name = f"newcomer{uuid.uuid4().hex[:8]}"
    password = "Passw0rd-newcomer!"
    user = {"id": create_intra(mattermost, name, password)}
    with mattermost.client(mattermost.login(name, password)) as newcomer:
        dm = newcomer.post("/channels/direct", json=[user["id"], mattermost.bot_user_id]).json()[
            "id"
        ]

        def messages() -> list[str]:
            posts = newcomer.get(f"/channels/{dm}/posts").json()["posts"].values()
            return [p["message"] for p in posts if p["user_id"] == mattermost.bot_user_id]

        until(lambda: len(messages()) >= 1, "a welcome DM", timeout=15)
        # A late duplicate (the join event seen twice, a replay after a resume) fails here.
        stays(lambda: len(messages()) == 1, "one welcome DM, never a second")
        messages_ = messages()
    assert len(messages_) == 1
    assert "Bienvenue dans ~domaine-intrapreneurs" in messages_[0]
    assert "/intra rejoindre" in messages_[0]


def test_healthz_and_graceful_stop(bot: BotProcess) -> None:
    status, body = bot.health()
    assert status == 200
    parts = body["parts"]
    assert parts["store"]["ok"] and parts["mattermost_api"]["ok"] and parts["websocket"]["ok"]
    assert bot.ready_after < 5
    assert bot.stop() < 10


def test_rejected_token_at_start_is_exit_2(bot_env: dict[str, str], tmp_path: Path) -> None:
    env = {**bot_env, "INTRA_BOT_MATTERMOST__TOKEN": "notavalidtoken00000000000a"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "rejected the bot token" in result.stderr
    assert "notavalidtoken" not in result.stderr


def test_unreachable_mattermost_keeps_serving_the_slash_command(
    bot_env: dict[str, str], command_token: str, tmp_path: Path
) -> None:
    env = {**bot_env, "INTRA_BOT_MATTERMOST__URL": f"http://127.0.0.1:{free_port()}"}
    process = BotProcess(env, tmp_path / "down.log").start(wait_ready=False)
    try:
        import httpx

        deadline = time.monotonic() + 10
        while True:
            try:
                status, body = process.health()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert status == 503
        assert body["parts"]["mattermost_api"]["ok"] is False
        response = httpx.post(
            process.url + "/mattermost/command",
            data={"token": command_token, "user_id": "u", "channel_id": "c", "text": "club"},
        )
        assert response.status_code == 200
        assert "premier jeudi" in response.json()["text"]
        assert process.process is not None
        stays(lambda: process.process.poll() is None, "the bot keeps running")  # type: ignore[union-attr]
    finally:
        assert process.stop() < 10


def test_setup_twice_changes_nothing(
    mattermost: MattermostServer, bot_env: dict[str, str], command_token: str
) -> None:
    result = run_setup(bot_env, admin_token=mattermost.admin_token)
    assert result.returncode == 0, result.stdout
    assert "/intra command already registered, unchanged" in result.stdout
    with mattermost.client(mattermost.admin_token) as admin:
        commands = admin.get(
            "/commands", params={"team_id": mattermost.team_id, "custom_only": "true"}
        ).json()
    assert [c["trigger"] for c in commands].count("intra") == 1


def test_setup_reports_the_bot_missing_from_the_private_channel(
    mattermost: MattermostServer, bot_env: dict[str, str], command_token: str
) -> None:
    channel = mattermost.private_channel_id
    with mattermost.client(mattermost.admin_token) as admin:
        admin.delete(f"/channels/{channel}/members/{mattermost.bot_user_id}").raise_for_status()
        try:
            result = run_setup(bot_env)
        finally:
            restore_bot_in_private_channel(mattermost)
    assert result.returncode == 1
    assert "FAIL  channel ~domaine-intras-prive exists and the bot can see it" in result.stdout
    assert "fix:" in result.stdout and "channel admin" in result.stdout


def test_dm_sent_during_a_short_drop_is_answered_after_the_resume(
    mattermost: MattermostServer, bot_env: dict[str, str], alice: MattermostUser, tmp_path: Path
) -> None:
    target = urlsplit(mattermost.url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 80)
    env = {**bot_env, "INTRA_BOT_MATTERMOST__URL": proxy.url}
    process = BotProcess(env, tmp_path / "drop.log").start()
    try:
        _, before = process.health()
        connection_id = before["parts"]["websocket"]["connection_id"]
        dm = alice.dm_channel_with(mattermost.bot_user_id)
        proxy.cut()
        until(lambda: not process.health()[1]["parts"]["websocket"]["ok"], "the bot sees the drop")
        question = alice.post(dm, "carrière")  # the bot cannot see it now
        until(
            lambda: process.health()[1]["parts"]["websocket"]["reconnects"] >= 1,
            "the bot has tried to reconnect through the cut",
        )
        proxy.restore()
        alice.wait_for_post(
            dm,
            is_bot_reply(mattermost, "clinique des situations difficiles"),
            since_ms=question["create_at"],
            timeout=30,
        )
        _, after = process.health()
        assert after["parts"]["websocket"]["connection_id"] == connection_id  # resumed, not fresh
        assert "resume=True" in process.logs()
    finally:
        process.stop()
        proxy.close()


def test_bot_reconnects_after_a_server_restart(
    mattermost: MattermostServer, bot: BotProcess, alice: MattermostUser
) -> None:
    restart = subprocess.run(
        ["bash", str(SCRIPT), "restart"], capture_output=True, text=True, timeout=300, check=False
    )
    assert restart.returncode == 0, restart.stdout + restart.stderr
    bot.wait_ready(timeout=90)
    alice.client.close()
    fresh = MattermostUser(mattermost, "alice.intra")
    try:
        dm = fresh.dm_channel_with(mattermost.bot_user_id)
        question = fresh.post(dm, "ressources")
        fresh.wait_for_post(
            dm,
            is_bot_reply(mattermost, "Ressources pour les intras"),
            since_ms=question["create_at"],
            timeout=30,
        )
    finally:
        fresh.close()
    assert bot.process is not None and bot.process.poll() is None


def test_sighup_reloads_the_content_and_a_bad_one_is_refused(
    bot_env: dict[str, str], command_token: str, tmp_path: Path
) -> None:
    import shutil
    import signal

    import httpx

    content = tmp_path / "content"
    shutil.copytree(Path(__file__).resolve().parents[3] / "content", content)
    process = BotProcess(
        {**bot_env, "INTRA_BOT_CONTENT__DIR": str(content)}, tmp_path / "hup.log"
    ).start()

    def ask(text: str) -> str:
        response = httpx.post(
            process.url + "/mattermost/command",
            data={"token": command_token, "user_id": "u", "channel_id": "c", "text": text},
        )
        return str(response.json()["text"])

    try:
        role = content / "role.yaml"
        role.write_text(
            role.read_text(encoding="utf-8").replace(
                "Intrapreneur, intrapreneure : le rôle", "Le rôle, version 2"
            ),
            encoding="utf-8",
        )
        assert process.process is not None
        process.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "Le rôle, version 2" not in ask("role"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        role.write_text("title: [cassé", encoding="utf-8")
        process.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while process.health()[1]["parts"]["content"]["ok"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        status, body = process.health()
        assert status == 200  # the previous content still serves
        assert "role.yaml" in body["parts"]["content"]["last_reload_error"]
        assert "Le rôle, version 2" in ask("role")
    finally:
        process.stop()
