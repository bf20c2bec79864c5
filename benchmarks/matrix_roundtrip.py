"""The Matrix adapter through a real Synapse (scripts/synapse.sh), users on matrix-nio.

    python benchmarks/matrix_roundtrip.py [--runs 20] [--interval 3] [--skip-start]

Prints:
- the round trip user message -> the bot's reply seen in the user's sync, median and
  worst of `--runs`, in the public room (`!intra aide`, plain) and in an encrypted DM,
  first at Tchap's pace (1 request/s, burst 10; questions `--interval` s apart so the
  bucket refills, as real users are) then with the limiter lifted (50/s);
- Synapse's cold start (fresh run dir, venv already installed: configure, keys, start,
  bootstrap) and warm start (same data, stop then `up`), on a separate port and run dir.
Target (issue 13): median <= 150 ms on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answers.conversation import Conversation  # noqa: E402
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.e2e_matrix.bot_runner import RunningBot  # noqa: E402
from tests.e2e_matrix.conftest import SynapseServer, bot_settings, start_synapse  # noqa: E402
from tests.e2e_matrix.nio_user import NioUser  # noqa: E402

SCRIPT = ROOT / "scripts" / "synapse.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def round_trips(
    user: NioUser, bot_id: str, room: str, text: str, runs: int, interval: float
) -> list[float]:
    times = []
    for _ in range(runs):
        mark = user.mark()
        start = time.perf_counter()
        question = await user.send_text(room, text)
        reply = await user.wait_for(
            "the bot's reply",
            lambda e, q=question: (
                e.sender == bot_id
                and e.is_message
                and e.room_id == room
                and (e.reply_to == q or not e.reply_to)
            ),
            after=mark,
        )
        assert not reply.undecryptable, "the bot's reply did not decrypt"
        times.append((reply.seen_at - start) * 1000)
        await asyncio.sleep(interval)  # pacing of a benchmark, not a synchronisation
    return times


def line(label: str, times: list[float]) -> str:
    return f"{label:<44} median {statistics.median(times):6.0f} ms   worst {max(times):6.0f} ms   (n={len(times)})"


async def measure(server: SynapseServer, runs: int, interval: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="intra-bot-matrix-bench-"))
    store_url = f"sqlite:///{work}/store.sqlite3"
    store = Store.open(store_url)
    conversation = Conversation(ContentSource(DEFAULT_CONTENT_DIR))
    alice = await NioUser.login(
        server.url, server.user_ids["alice.intra"], server.user_password, work / "alice"
    )
    try:
        for label, pace in (
            ("Tchap's pace (1/s, burst 10)", {"requests_per_second": 1.0, "burst": 10}),
            ("limiter lifted (50/s)", {"requests_per_second": 50.0, "burst": 50}),
        ):
            bot = RunningBot(bot_settings(server, **pace), store, store_url, conversation)
            await bot.start()
            try:
                dm = await alice.create_dm(server.bot_user_id, encrypted=True)
                await alice.wait_joined(dm, server.bot_user_id)
                await round_trips(alice, server.bot_user_id, dm, "aide", 1, interval)  # keys
                plain = await round_trips(
                    alice, server.bot_user_id, server.public_room_id, "!intra aide", runs, interval
                )
                print(line(f"plain room, {label}", plain), flush=True)
                encrypted = await round_trips(alice, server.bot_user_id, dm, "aide", runs, interval)
                print(line(f"encrypted DM, {label}", encrypted), flush=True)
                print(
                    f"{'':<44} bot requests {bot.adapter.limiter.requests}, "
                    f"throttled {bot.adapter.limiter.waited_seconds:.1f} s",
                    flush=True,
                )
            finally:
                await bot.stop()
    finally:
        await alice.close()
        store.close()
        shutil.rmtree(work, ignore_errors=True)


def synapse_starts() -> None:
    run = Path(tempfile.mkdtemp(prefix="intra-bot-synapse-bench-"))
    env = {
        **os.environ,
        "INTRA_BOT_SYNAPSE_RUN": str(run / "run"),
        "INTRA_BOT_SYNAPSE_PORT": str(free_port()),
    }

    def script(*args: str) -> tuple[float, str]:
        start = time.perf_counter()
        done = subprocess.run(
            ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, check=True
        )
        return time.perf_counter() - start, done.stderr

    try:
        cold, log = script("up")
        ready = re.search(r"answers after (\d+) s", log)
        print(
            f"synapse cold start (fresh run dir, up)         {cold:5.1f} s total; "
            f"server ready after {ready.group(1) if ready else '?'} s",
            flush=True,
        )
        script("down")
        warm, log = script("up")
        ready = re.search(r"answers after (\d+) s", log)
        print(
            f"synapse warm start (same data, up)             {warm:5.1f} s total; "
            f"server ready after {ready.group(1) if ready else '?'} s",
            flush=True,
        )
    finally:
        subprocess.run(["bash", str(SCRIPT), "reset"], env=env, capture_output=True, check=False)
        shutil.rmtree(run, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--skip-start", action="store_true", help="skip Synapse's start times")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    if not args.skip_start:
        synapse_starts()
    server = start_synapse()
    asyncio.run(measure(server, args.runs, args.interval))
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
