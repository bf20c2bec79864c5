"""How long the catch-up takes for a bot that is in hundreds of DM channels.

    python benchmarks/catchup_channels.py [--channels 500] [--runs 7] [--all-active]

Needs the real server (scripts/mattermost.sh up; the INTRA_BOT_MM_* variables of your shell
choose which one). It first makes sure the bot has a DM with `--channels` users
(`dmbench0001`...; created once, kept: a reused server keeps them), each with a post of
the bot, as a year of welcomes leaves. Then, each run: the bot is stopped, the 300th user
writes to it, the bot starts on the same store, and the catch-up answers. Reported: the
catch-up's own time (`seconds=` of `event=catchup_done`), how many channels it listed and
read, and the reply's delay from the process start. With `--all-active` the bot first
posts in every DM, so the catch-up reads all of them (the worst case: everyone wrote
while it was down).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.bot_process import BotProcess, bot_environment, free_port  # noqa: E402
from tests.mattermost_server import (  # noqa: E402
    MattermostServer,
    retire_leftover_users,
    start_mattermost,
)

# `listed=` is absent before it was logged: the script also measures older code.
SKIPPED = re.compile(r"event=catchup_skipped")
DONE = re.compile(r"event=catchup_done .*?(?:listed=(\d+) )?channels=(\d+) .*?seconds=([\d.]+)")


def username(n: int) -> str:
    return f"dmbench{n:04d}"


def ensure_dm_channels(server: MattermostServer, count: int) -> dict[int, str]:
    """Users 1..count, each with a DM channel holding a post of the bot, then deactivated
    (a server without a licence refuses users past 250 active ones; their DMs stay, as a
    year of departures leaves them); their user ids."""
    names = [username(n) for n in range(1, count + 1)]
    ids: dict[str, str] = {}
    inactive: set[str] = set()
    with server.client(server.admin_token) as admin, server.client(server.bot_token) as bot:
        for start in range(0, len(names), 100):
            for user in admin.post("/users/usernames", json=names[start : start + 100]).json():
                ids[user["username"]] = user["id"]
                if user["delete_at"]:
                    inactive.add(user["username"])
        posted = {c["name"] for c in bot.get("/users/me/channels").json() if c["last_post_at"]}

        def prepare(name: str) -> None:
            if name not in ids:
                body = {"username": name, "email": f"{name}@example.test"}
                user = admin.post("/users", json={**body, "password": server.user_password})
                user.raise_for_status()
                ids[name] = user.json()["id"]
            if "__".join(sorted((server.bot_user_id, ids[name]))) not in posted:
                post_in_dm(server, admin, bot, ids[name], "Bienvenue !")
            elif name in inactive:
                return
            admin.delete(f"/users/{ids[name]}").raise_for_status()

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(prepare, names))
    return {n: ids[username(n)] for n in range(1, count + 1)}


def post_in_dm(
    server: MattermostServer, admin: httpx.Client, bot: httpx.Client, user_id: str, text: str
) -> None:
    """The bot posts in its DM with the user (active for the moment: Mattermost refuses a
    post in a DM with a deactivated user)."""
    admin.put(f"/users/{user_id}/active", json={"active": True}).raise_for_status()
    dm = bot.post("/channels/direct", json=[server.bot_user_id, user_id])
    dm.raise_for_status()
    posted = bot.post("/posts", json={"channel_id": dm.json()["id"], "message": text})
    assert posted.status_code == 201, f"{user_id}: {posted.status_code} {posted.text}"


def post_everywhere(server: MattermostServer, user_ids: dict[int, str]) -> None:
    with server.client(server.admin_token) as admin, server.client(server.bot_token) as bot:

        def post(user_id: str) -> None:
            post_in_dm(server, admin, bot, user_id, "Une nouvelle.")
            admin.delete(f"/users/{user_id}").raise_for_status()

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(post, user_ids.values()))


def summary(label: str, values: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(values):.2f}  min {min(values):.2f}"
        f"  max {max(values):.2f}  (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--channels", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--all-active", action="store_true")
    args = parser.parse_args()
    server = start_mattermost()
    retire_leftover_users(server)
    started = time.monotonic()
    user_ids = ensure_dm_channels(server, args.channels)
    print(f"{args.channels} DM channels ready in {time.monotonic() - started:.0f} s", flush=True)
    asker_number = min(300, args.channels)
    work = Path(tempfile.mkdtemp(prefix="intra-bot-catchup-channels-"))
    env = bot_environment(
        server, free_port(), f"sqlite:///{work}/store.db", INTRA_BOT_LOGGING__LEVEL="INFO"
    )
    first = BotProcess(env, work / "first.log").start()  # a store with a mark
    wait_for_line(first.log_path, SKIPPED)  # stopped before it, the store would stay new
    first.stop()
    with server.client(server.admin_token) as admin:
        admin.put(f"/users/{user_ids[asker_number]}/active", json={"active": True})
    asker = server.client(server.login(username(asker_number)))
    dm = asker.post("/channels/direct", json=[user_ids[asker_number], server.bot_user_id])
    dm_id = dm.json()["id"]
    catchups: list[float] = []
    replies: list[float] = []
    try:
        for run in range(args.runs):
            if args.all_active:  # the asker's channel gets its question below
                post_everywhere(server, {n: u for n, u in user_ids.items() if n != asker_number})
            question = asker.post("/posts", json={"channel_id": dm_id, "message": "club"}).json()
            log = work / f"run{run}.log"
            process_start = time.time()
            bot = BotProcess(env, log).start()
            try:
                reply = wait_for_reply(asker, dm_id, server.bot_user_id, question["create_at"])
                done = wait_for_line(log, DONE)
            finally:
                bot.stop()
            listed, read, seconds = int(done[1] or 0), int(done[2]), float(done[3])
            catchups.append(seconds)
            replies.append(reply["create_at"] / 1000 - process_start)
            print(
                f"run {run + 1}: catch-up {seconds:.2f} s (listed {listed}, read {read});"
                f" reply {replies[-1]:.2f} s after the process start",
                flush=True,
            )
    finally:
        asker.close()
        with server.client(server.admin_token) as admin:
            admin.delete(f"/users/{user_ids[asker_number]}")
    print(f"catch-up with {args.channels} DM channels (all active: {args.all_active}), s:")
    print("  " + summary("catch-up", catchups))
    print("  " + summary("reply after process start", replies))


def wait_for_reply(asker: httpx.Client, dm_id: str, bot_id: str, since_ms: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        posts = asker.get(f"/channels/{dm_id}/posts", params={"since": since_ms}).json()
        for post in posts["posts"].values():
            if post["user_id"] == bot_id and post["create_at"] >= since_ms:
                return dict(post)
        time.sleep(0.05)
    raise SystemExit("no reply within 120 s")


def wait_for_line(log: Path, line: re.Pattern[str]) -> re.Match[str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = line.search(log.read_text(errors="replace"))
        if found:
            return found
        time.sleep(0.05)
    raise SystemExit(f"no {line.pattern} in {log}")


if __name__ == "__main__":
    main()
