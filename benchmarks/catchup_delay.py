"""How long a DM waits when it is sent the moment a restarted Mattermost answers again.

    python benchmarks/catchup_delay.py [--runs 5]

Needs the real server (scripts/mattermost.sh up; the INTRA_BOT_MM_* variables of your shell
choose which one). Each run restarts Mattermost under a running bot, polls
`/system/ping` every 50 ms, and as soon as it answers posts a DM to the bot; the delay is
from that first good ping to the reply's `create_at` (same machine, same clock). It
covers the websocket noticing the server is back, the catch-up that fetches what it did
not push, and the answer itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.bot_process import BotProcess, MattermostUser, bot_environment, free_port  # noqa: E402
from tests.e2e.conftest import _run, start_mattermost  # noqa: E402

QUESTIONS = ("certification", "club", "référents", "accompagnement", "ressources", "canaux")


def first_good_ping(url: str, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/v4/system/ping", timeout=1).status_code == 200:
                return time.time()
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit("Mattermost did not come back within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = start_mattermost()
    work = Path(tempfile.mkdtemp(prefix="intra-bot-catchup-"))
    env = bot_environment(
        server, free_port(), f"sqlite:///{work}/store.db", INTRA_BOT_LOGGING__LEVEL="INFO"
    )
    bot = BotProcess(env, work / "bot.log").start()
    alice = MattermostUser(server, "alice.intra")
    dm = alice.dm_channel_with(server.bot_user_id)
    delays: list[float] = []
    try:
        for run in range(args.runs):
            restarted = _run("restart", timeout=300)
            assert restarted.returncode == 0, restarted.stdout + restarted.stderr
            back_at = first_good_ping(server.url)
            question = alice.post(dm, QUESTIONS[run % len(QUESTIONS)])
            reply = alice.wait_for_post(
                dm,
                lambda post: post["user_id"] == server.bot_user_id,
                timeout=180,
                since_ms=question["create_at"],
            )
            delay = reply["create_at"] / 1000 - back_at
            delays.append(delay)
            print(f"run {run + 1}: reply {delay:.2f} s after the first good ping", flush=True)
    finally:
        alice.close()
        bot.stop()
    logs = (work / "bot.log").read_text(errors="replace")
    caught = logs.count("event=catchup_post")
    again = logs.count("event=post_already_answered")
    probed = logs.count("event=websocket_server_back")
    print(f"catch-up delay after a server restart over {len(delays)} runs (s):")
    print(
        f"  median {statistics.median(delays):.2f}  min {min(delays):.2f}  max {max(delays):.2f}"
        f"  stdev {statistics.pstdev(delays):.2f}"
    )
    print(
        f"  posts handed over by the catch-up: {caught} (of which already answered, so skipped"
        f" by the claim: {again}); reconnections ended early by the ping probe: {probed}"
    )


if __name__ == "__main__":
    main()
