"""The Matrix adapter through a real Synapse (scripts/synapse.sh), users on matrix-nio.

    python benchmarks/matrix_roundtrip.py [--runs 20] [--interval 3] [--pace tchap|lifted|both]
                                          [--mautrix-client]

Prints:
- the round trip user message -> the bot's reply seen in the user's sync, median, min and
  worst of `--runs`, in the public room (`!intra aide`, plain) and in an encrypted DM,
  alternated question by question, with the medians of its legs (user sends -> the bot's
  sync brings it; the bot handles it until its reply's send starts; that send; send done
  -> the user's sync has it),
  first at Tchap's pace (1 request/s, burst 10; questions `--interval` s apart so the
  bucket refills, as real users are) then with the limiter lifted (50/s).
`--mautrix-client` runs the bot on mautrix's own Client, which looks the room's encryption
up before every reply in a plain room (what BotClient saves), to compare.
Synapse's start times: benchmarks/synapse_start.py.
Target (issue 13): median <= 150 ms on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mautrix.client import Client  # noqa: E402

from bot.adapters.matrix import adapter as matrix_adapter  # noqa: E402
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


class SendClock:
    """When the bot's reply sends start and end (same process, same clock as the user's)."""

    def __init__(self, bot: RunningBot) -> None:
        self.limiter = bot.adapter.limiter
        self.sends: list[tuple[float, float]] = []
        self.sync_ends: list[float] = []
        api = bot.adapter.client.api  # type: ignore[union-attr]
        request = api.request

        async def timed(method: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await request(method, path, *args, **kwargs)
            finally:
                if "/send/" in str(path):
                    self.sends.append((start, time.perf_counter()))
                elif str(path).endswith("/sync"):
                    self.sync_ends.append(time.perf_counter())

        api.request = timed  # type: ignore[method-assign]


@dataclass
class Trip:
    total: float  # user sends -> reply seen in the user's sync (ms)
    to_bot: float  # user sends -> the bot's sync that brings the question returns
    handling: float  # that sync returns -> the bot starts sending its reply
    bot_send: float  # the bot's send request
    to_user: float  # the send done -> the user's sync has it
    throttled: float  # of all that, the bot's requests waiting for the limiter


async def one_trip(
    user: NioUser, clock: SendClock, bot_id: str, room: str, text: str, *, direct: bool
) -> Trip:
    mark = user.mark()
    waited = clock.limiter.waited_seconds
    start = time.perf_counter()
    question = await user.send_text(room, text)
    reply = await user.wait_for(
        "the bot's reply",
        lambda e: (
            e.sender == bot_id
            and e.is_message
            and e.room_id == room
            # in a room: in the question's thread; in a DM: beside it (no relation)
            and (question in (e.reply_to, e.thread_root) or (direct and not e.reply_to))
        ),
        after=mark,
    )
    assert not reply.undecryptable, "the bot's reply did not decrypt"
    sends = [t for t in clock.sends if t[0] > start]
    if not sends:  # seen once under load: a reply this process did not send; legs unknown
        print(f"no send recorded for the reply {reply.event_id}", file=sys.stderr)
        nan = float("nan")
        return Trip((reply.seen_at - start) * 1000, nan, nan, nan, nan, nan)
    send_start, send_end = sends[-1]
    synced = max((t for t in clock.sync_ends if start < t < send_start), default=start)
    ms = 1000
    return Trip(
        (reply.seen_at - start) * ms,
        (synced - start) * ms,
        (send_start - synced) * ms,
        (send_end - send_start) * ms,
        (reply.seen_at - send_end) * ms,
        (clock.limiter.waited_seconds - waited) * ms,
    )


def line(label: str, trips: list[Trip]) -> str:
    total = [t.total for t in trips]
    phases = "  ".join(
        f"{name} {statistics.median(v for t in trips if (v := getattr(t, name)) == v):.0f}"
        for name in ("to_bot", "handling", "bot_send", "to_user", "throttled")
    )
    throttled = sum(t.throttled for t in trips if t.throttled == t.throttled)
    return (
        f"{label:<40} median {statistics.median(total):5.0f} ms  min {min(total):5.0f}  "
        f"worst {max(total):5.0f}  (n={len(trips)}; medians: {phases}; "
        f"throttled in all: {throttled:.0f} ms)"
    )


PACES = {
    "tchap": ("Tchap's pace (1/s, burst 10)", {"requests_per_second": 1.0, "burst": 10}),
    "lifted": ("limiter lifted (50/s)", {"requests_per_second": 50.0, "burst": 50}),
}


async def measure(server: SynapseServer, runs: int, interval: float, paces: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="intra-bot-matrix-bench-"))
    store_url = f"sqlite:///{work}/store.sqlite3"
    store = Store.open(store_url)
    conversation = Conversation(ContentSource(DEFAULT_CONTENT_DIR))
    alice = await NioUser.login(
        server.url, server.user_ids["alice.intra"], server.user_password, work / "alice"
    )
    bot_id = server.bot_user_id
    try:
        for label, pace in (PACES[name] for name in paces):
            bot = RunningBot(bot_settings(server, **pace), store, store_url, conversation)
            await bot.start()
            try:
                clock = SendClock(bot)
                dm = await alice.create_dm(bot_id, encrypted=True)
                await alice.wait_joined(dm, bot_id)
                kinds = {
                    "plain room": (server.public_room_id, "!intra aide", False),
                    "encrypted DM": (dm, "aide", True),
                }
                trips: dict[str, list[Trip]] = {kind: [] for kind in kinds}
                for room, text, direct in kinds.values():  # warm-up: keys, first look-ups
                    await one_trip(alice, clock, bot_id, room, text, direct=direct)
                for i in range(runs):
                    # Alternated, the order swapped each round: noise falls on both alike.
                    order = list(kinds) if i % 2 == 0 else list(reversed(kinds))
                    for kind in order:
                        room, text, direct = kinds[kind]
                        trip = await one_trip(alice, clock, bot_id, room, text, direct=direct)
                        trips[kind].append(trip)
                        await asyncio.sleep(
                            interval
                        )  # pacing of a benchmark, not a synchronisation
                for kind, values in trips.items():
                    print(line(f"{kind}, {label}", values), flush=True)
                print(
                    f"{'':<40} bot requests {bot.adapter.limiter.requests}, "
                    f"throttled {bot.adapter.limiter.waited_seconds:.1f} s",
                    flush=True,
                )
            finally:
                await bot.stop()
    finally:
        await alice.close()
        store.close()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--pace", choices=["tchap", "lifted", "both"], default="both")
    parser.add_argument(
        "--mautrix-client",
        action="store_true",
        help="the bot on mautrix's Client instead of BotClient (one encryption look-up per "
        "reply in a plain room, as before): to compare",
    )
    args = parser.parse_args()
    if args.mautrix_client:
        matrix_adapter.BotClient = Client  # type: ignore[misc]
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    server = start_synapse()
    paces = ["tchap", "lifted"] if args.pace == "both" else [args.pace]
    asyncio.run(measure(server, args.runs, args.interval, paces))
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
