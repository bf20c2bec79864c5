"""Fair shares: another person's answer while one account floods the bot, on both platforms.

    python benchmarks/flood.py [--rounds 4] [--flood 100]

The real `python -m bot run` with config.example.toml's defaults (6 questions at once and 6
a minute per person; on Tchap 1 request/s, burst 10), serving the real Mattermost
(scripts/mattermost.sh) and the real Synapse (scripts/synapse.sh) at once, both started
as the tests start them; only addresses, tokens, the port and the store come from the
environment. In each round, on each platform: bruno asks a question alone (unloaded), then
alice sends `--flood` questions as fast as her client can, and bruno asks right after
(loaded). Rounds alternate unloaded and loaded, so a neighbour's load hits both; a round
waits for alice's share to be whole again (a minute) so each flood gets its six answers
and its « Doucement ». Mattermost: DMs over the REST API, replies polled every 20 ms;
Tchap: encrypted DMs from matrix-nio users, replies seen by a long-polling sync.
Prints per platform the median and worst of bruno's latency, unloaded vs loaded, with the
spread (min–max) over rounds. Target: loaded median within 2x of unloaded.
Nothing is written in the checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.dont_write_bytecode = True

from tests.e2e.bot_process import (  # noqa: E402
    BotProcess,
    MattermostUser,
    bot_environment,
    command_token_from,
    free_port,
    run_setup,
)
from tests.e2e_matrix.conftest import SynapseServer, start_synapse  # noqa: E402
from tests.e2e_matrix.nio_user import NioUser  # noqa: E402
from tests.mattermost_server import start_mattermost  # noqa: E402

SHARE_BACK_S = 62.0  # config.example.toml: 6 at once, 6 a minute
QUESTIONS = ("qui sont les référents ?", "certification", "aide", "carrière")


def mattermost_latency(bruno: MattermostUser, dm: str, bot_id: str) -> float:
    question = bruno.post(dm, "certification")
    asked = time.perf_counter()
    deadline = asked + 120
    while time.perf_counter() < deadline:
        for post in bruno.posts_in(dm, question["create_at"]):
            if post["user_id"] == bot_id and "RS6247" in str(post["message"]):
                return time.perf_counter() - asked
        time.sleep(0.02)
    raise AssertionError("Mattermost: no answer to bruno within 120 s")


def mattermost_flood(alice: MattermostUser, dm: str, count: int) -> None:
    for n in range(count):
        alice.post(dm, QUESTIONS[n % len(QUESTIONS)])


async def tchap_latency(bruno: NioUser, room: str, bot_id: str) -> float:
    mark = bruno.mark()
    asked = time.perf_counter()
    await bruno.send_text(room, "certification")
    seen = await bruno.wait_for(
        "the bot's answer",
        lambda e: e.room_id == room and e.sender == bot_id and e.is_message,
        after=mark,
        timeout=120,
    )
    return seen.seen_at - asked


async def tchap_flood(alice: NioUser, room: str, count: int) -> None:
    for n in range(count):
        await alice.send_text(room, QUESTIONS[n % len(QUESTIONS)])


def bot_process(work: Path, synapse: SynapseServer) -> BotProcess:
    server = start_mattermost()
    port = free_port()
    env = bot_environment(
        server,
        port,
        f"sqlite:///{work}/store.db",
        INTRA_BOT_CONFIG=str(ROOT / "config.example.toml"),
        INTRA_BOT_LOGGING__LEVEL="INFO",
        INTRA_BOT_REMINDERS__ENABLED="false",
        INTRA_BOT_MATRIX__HOMESERVER=synapse.url,
        INTRA_BOT_MATRIX__USER_ID=synapse.bot_user_id,
        INTRA_BOT_MATRIX__PASSWORD=synapse.bot_password,
        INTRA_BOT_MATRIX__PUBLIC_ROOM=synapse.public_room_alias,
        INTRA_BOT_MATRIX__PRIVATE_ROOM=synapse.private_room_id,
        INTRA_BOT_MATRIX__PICKLE_KEY=secrets.token_urlsafe(32),
    )
    setup = run_setup({**env, "INTRA_BOT_MATRIX__HOMESERVER": ""}, admin_token=server.admin_token)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    env["INTRA_BOT_HTTP__COMMAND_TOKENS"] = command_token_from(setup.stdout)
    return BotProcess(env, work / "bot.log")


def describe(name: str, rounds: list[float]) -> str:
    ms = [r * 1000 for r in rounds]
    return (
        f"{name:9} median {statistics.median(ms):7.0f} ms  worst {max(ms):7.0f} ms  "
        f"spread {min(ms):.0f}–{max(ms):.0f} ms over {len(ms)} rounds"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--flood", type=int, default=100)
    args = parser.parse_args()
    synapse = start_synapse()
    for user_id in [synapse.bot_user_id, *synapse.user_ids.values()]:
        synapse.delete_devices(user_id)
    work = Path(tempfile.mkdtemp(prefix="intra-bot-flood-"))
    bot = bot_process(work, synapse).start()
    server = start_mattermost()
    mm_alice, mm_bruno = (
        MattermostUser(server, "alice.intra"),
        MattermostUser(server, "bruno.intra"),
    )
    mx_alice = await NioUser.login(
        synapse.url, synapse.user_ids["alice.intra"], synapse.user_password, work / "alice"
    )
    mx_bruno = await NioUser.login(
        synapse.url, synapse.user_ids["bruno.intra"], synapse.user_password, work / "bruno"
    )
    results: dict[str, list[float]] = {}
    try:
        mm_flood_dm = mm_alice.dm_channel_with(server.bot_user_id)
        mm_other_dm = mm_bruno.dm_channel_with(server.bot_user_id)
        mx_flood_dm = await mx_alice.create_dm(synapse.bot_user_id)
        mx_other_dm = await mx_bruno.create_dm(synapse.bot_user_id)
        await mx_alice.wait_joined(mx_flood_dm, synapse.bot_user_id)
        await mx_bruno.wait_joined(mx_other_dm, synapse.bot_user_id)
        # Warm-up: each DM's first answer (room keys on Tchap) is not what is measured.
        await tchap_latency(mx_bruno, mx_other_dm, synapse.bot_user_id)
        await mx_alice.send_text(mx_flood_dm, "aide")
        mattermost_latency(mm_bruno, mm_other_dm, server.bot_user_id)
        await asyncio.sleep(SHARE_BACK_S)

        def record(key: str, seconds: float) -> None:
            results.setdefault(key, []).append(seconds)
            print(f"  {key:22} {seconds * 1000:7.0f} ms", flush=True)

        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number}", flush=True)
            started = time.monotonic()
            record(
                "mattermost unloaded", mattermost_latency(mm_bruno, mm_other_dm, server.bot_user_id)
            )
            mattermost_flood(mm_alice, mm_flood_dm, args.flood)
            record(
                "mattermost loaded", mattermost_latency(mm_bruno, mm_other_dm, server.bot_user_id)
            )
            await asyncio.sleep(3)  # Tchap's bucket: the Mattermost round left it alone
            record(
                "tchap unloaded", await tchap_latency(mx_bruno, mx_other_dm, synapse.bot_user_id)
            )
            await tchap_flood(mx_alice, mx_flood_dm, args.flood)
            record("tchap loaded", await tchap_latency(mx_bruno, mx_other_dm, synapse.bot_user_id))
            # Alice's share whole again, Tchap's bucket full again, before the next round.
            await asyncio.sleep(max(15.0, SHARE_BACK_S - (time.monotonic() - started)))
        slow_downs = bot.log_text().count("event=question_budget_spent")
    finally:
        await mx_alice.close()
        await mx_bruno.close()
        mm_alice.close()
        mm_bruno.close()
        bot.stop()
    print(f"\nflood of {args.flood} questions from one account; another person's latency:")
    for platform in ("mattermost", "tchap"):
        unloaded, loaded = results[f"{platform} unloaded"], results[f"{platform} loaded"]
        print(platform)
        print("  " + describe("unloaded", unloaded))
        print("  " + describe("loaded", loaded))
        ratio = statistics.median(loaded) / statistics.median(unloaded)
        print(f"  loaded/unloaded median {ratio:.2f} (target <= 2)")
    print(f"« Doucement » sent (both platforms): {slow_downs}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    asyncio.run(main())
