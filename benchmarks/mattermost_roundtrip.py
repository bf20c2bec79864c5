"""The bot through the real Mattermost server (scripts/mattermost.sh up first).

    python benchmarks/mattermost_roundtrip.py [--runs 50]

Prints: the round trip of `POST /api/v4/commands/execute` for `/intra referents` vs a
trivial responder registered the same way; the time from `intra-bot run` to ready;
its RSS when idle. Targets: ready <= 2 s, idle RSS <= 100 MB.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
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

TRIVIAL_TRIGGER = "benchping"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    server = start_mattermost()
    work = Path(tempfile.mkdtemp(prefix="intra-bot-bench-"))
    port = free_port()
    env = bot_environment(
        server, port, f"sqlite:///{work}/store.db", INTRA_BOT_LOGGING__LEVEL="INFO"
    )
    setup = run_setup(env, admin_token=server.admin_token)
    assert setup.returncode == 0, setup.stdout
    env["INTRA_BOT_HTTP__COMMAND_TOKENS"] = command_token_from(setup.stdout)

    bot = BotProcess(env, work / "bot.log").start()
    trivial_port = free_port()
    trivial = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "serve_command.py"),
            "bare",
            "--port",
            str(trivial_port),
        ]
    )
    try:
        with server.client(server.admin_token) as admin:
            commands = admin.get(
                "/commands", params={"team_id": server.team_id, "custom_only": "true"}
            ).json()
            for command in commands:
                if command["trigger"] == TRIVIAL_TRIGGER:
                    admin.delete(f"/commands/{command['id']}")
            admin.post(
                "/commands",
                json={
                    "team_id": server.team_id,
                    "trigger": TRIVIAL_TRIGGER,
                    "method": "P",
                    "url": f"http://127.0.0.1:{trivial_port}/mattermost/command",
                },
            ).raise_for_status()
        with server.client(server.login("alice.intra")) as alice:

            def timed(command: str) -> list[float]:
                times = []
                for _ in range(args.runs):
                    start = time.perf_counter()
                    response = alice.post(
                        "/commands/execute",
                        json={"channel_id": server.public_channel_id, "command": command},
                    )
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, response.text
                return times

            timed("/intra referents")  # warm-up
            ours = timed("/intra referents")
            bare = timed(f"/{TRIVIAL_TRIGGER}")
        time.sleep(10)
        rss_kib = next(
            int(line.split()[1])
            for line in Path(f"/proc/{bot.process.pid}/status").read_text().splitlines()  # type: ignore[union-attr]
            if line.startswith("VmRSS:")
        )
        stop_s = bot.stop()
    finally:
        trivial.terminate()
        if bot.process and bot.process.poll() is None:
            bot.stop()
    print(f"commands/execute round trip over {args.runs} runs (ms):")
    print(
        f"  /intra referents (bot)  p50 {statistics.median(ours):6.2f}  p99 {percentile(ours, 0.99):6.2f}"
    )
    print(
        f"  /{TRIVIAL_TRIGGER} (trivial)     p50 {statistics.median(bare):6.2f}  p99 {percentile(bare, 0.99):6.2f}"
    )
    print(f"  bot overhead at p50: {statistics.median(ours) - statistics.median(bare):+.2f} ms")
    print(
        f"intra-bot run: ready after {bot.ready_after:.2f} s (target <= 2 s), idle RSS {rss_kib / 1024:.1f} MiB (target <= 100 MB), SIGTERM exit {stop_s:.2f} s"
    )


if __name__ == "__main__":
    main()
