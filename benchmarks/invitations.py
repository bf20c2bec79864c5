"""Invitations through the real server (scripts/mattermost.sh up first).

    python benchmarks/invitations.py [--runs 20]

Prints the time from a referent's click to the membership being visible through the
API (median and worst), and the REST calls one request and one decision cost the bot
(read from its /healthz counter).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.bot_process import (  # noqa: E402
    BotProcess,
    bot_environment,
    command_token_from,
    free_port,
    run_setup,
)
from tests.e2e.conftest import start_mattermost  # noqa: E402

PASSWORD = "Passw0rd-bench!"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    server = start_mattermost()
    work = Path(tempfile.mkdtemp(prefix="intra-bot-inv-"))
    env = bot_environment(
        server, free_port(), f"sqlite:///{work}/store.db", INTRA_BOT_LOGGING__LEVEL="INFO"
    )
    setup = run_setup(env, admin_token=server.admin_token)
    assert setup.returncode == 0, setup.stdout
    env["INTRA_BOT_HTTP__COMMAND_TOKENS"] = command_token_from(setup.stdout)
    bot = BotProcess(env, work / "bot.log").start()
    delays: list[float] = []
    request_calls: list[int] = []
    decision_calls: list[int] = []
    try:
        with (
            server.client(server.admin_token) as admin,
            server.client(server.login("marine.purson")) as marine,
        ):
            marine_id = marine.get("/users/me").json()["id"]
            dm = marine.post("/channels/direct", json=[marine_id, server.bot_user_id]).json()["id"]
            for _ in range(args.runs):
                name = f"bench{uuid.uuid4().hex[:10]}"
                user = admin.post(
                    "/users",
                    json={"username": name, "email": f"{name}@example.test", "password": PASSWORD},
                ).json()
                admin.post(
                    f"/teams/{server.team_id}/members",
                    json={"team_id": server.team_id, "user_id": user["id"]},
                )
                with server.client(server.login(name, PASSWORD)) as intra:
                    before = bot.health()[1]["parts"]["mattermost_api"]["rest_calls"]
                    intra.post(
                        "/commands/execute",
                        json={
                            "channel_id": dm_of(intra, user["id"], server.bot_user_id),
                            "command": "/intra rejoindre",
                            "team_id": server.team_id,
                        },
                    )
                    after_request = bot.health()[1]["parts"]["mattermost_api"]["rest_calls"]
                notice = wait_notice(marine, dm, name)
                actions = notice["props"]["attachments"][0]["actions"]
                accept = next(a for a in actions if a["name"] == "Accepter")
                start = time.perf_counter()
                marine.post(f"/posts/{notice['id']}/actions/{accept['id']}", json={})
                while (
                    admin.get(
                        f"/channels/{server.private_channel_id}/members/{user['id']}"
                    ).status_code
                    != 200
                ):
                    time.sleep(0.005)
                delays.append((time.perf_counter() - start) * 1000)
                time.sleep(0.3)  # let the notices' updates finish before reading the counter
                after_decision = bot.health()[1]["parts"]["mattermost_api"]["rest_calls"]
                request_calls.append(after_request - before)
                decision_calls.append(after_decision - after_request)
    finally:
        bot.stop()
    print(
        f"click -> membership visible, over {args.runs} runs: median {statistics.median(delays):.1f} ms, worst {max(delays):.1f} ms"
    )
    print(
        f"REST calls per request: median {statistics.median(request_calls):.0f} (min {min(request_calls)}, max {max(request_calls)})"
    )
    print(
        f"REST calls per decision: median {statistics.median(decision_calls):.0f} (min {min(decision_calls)}, max {max(decision_calls)})"
    )


def dm_of(client, user_id: str, bot_id: str) -> str:  # type: ignore[no-untyped-def]
    return str(client.post("/channels/direct", json=[user_id, bot_id]).json()["id"])


def wait_notice(marine, dm: str, name: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        posts = marine.get(f"/channels/{dm}/posts").json()["posts"].values()
        for post in posts:
            if f"`@{name}`" in post["message"] and post["props"].get("attachments"):
                return post
        time.sleep(0.05)
    raise SystemExit(f"no notice for {name}")


if __name__ == "__main__":
    main()
