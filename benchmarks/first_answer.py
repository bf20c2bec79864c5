"""The first answer after a start, on Tchap: does the start spend the burst that answers need?

    python benchmarks/first_answer.py [--starts 5]

The real `python -m bot run` with config.example.toml's defaults (Tchap: 1 request/s,
burst 10), serving the real Synapse (and Mattermost, as benchmarks/flood.py does), started
again and again on the same store: the first start makes the device and its cross-signing,
the later ones are what a restart costs. After each start is ready (/healthz 200), bruno
asks one question in his encrypted DM with the bot at once; printed: how long the start
took to be ready and how long that first answer took. Target: the first answer within 2 s
on every start after the first. Nothing is written in the checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flood import bot_process, tchap_latency  # noqa: E402

from tests.e2e_matrix.conftest import start_synapse  # noqa: E402
from tests.e2e_matrix.nio_user import NioUser  # noqa: E402

TARGET_S = 2.0


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    synapse = start_synapse()
    for user_id in [synapse.bot_user_id, *synapse.user_ids.values()]:
        synapse.delete_devices(user_id)
    work = Path(tempfile.mkdtemp(prefix="intra-bot-first-answer-"))
    bot = bot_process(work, synapse)
    bruno = await NioUser.login(
        synapse.url, synapse.user_ids["bruno.intra"], synapse.user_password, work / "bruno"
    )
    later: list[float] = []
    try:
        room = ""
        for start in range(1, args.starts + 1):
            spawned = time.perf_counter()
            bot.start()
            ready = time.perf_counter() - spawned
            if not room:  # the DM exists from the first start on, as for a returning person
                room = await bruno.create_dm(synapse.bot_user_id)
                await bruno.wait_joined(room, synapse.bot_user_id)
            answer = await tchap_latency(bruno, room, synapse.bot_user_id)
            print(f"start {start}: ready in {ready:5.1f} s, first answer in {answer:5.2f} s")
            if start > 1:
                later.append(answer)
            bot.stop()
            await asyncio.sleep(2)  # Tchap's bucket refills a little, as between real restarts
    finally:
        await bruno.close()
        bot.stop()
    if later:
        print(
            f"\nfirst answer after a restart: median {statistics.median(later):.2f} s, "
            f"worst {max(later):.2f} s over {len(later)} restarts (target <= {TARGET_S:.0f} s)"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    asyncio.run(main())
