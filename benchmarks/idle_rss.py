"""Idle RSS of `intra-bot run` serving Mattermost alone, then Mattermost and Matrix together.

    python benchmarks/idle_rss.py [--rounds 3] [--idle 10]

Both servers are the real test ones (scripts/mattermost.sh, scripts/synapse.sh, started
if needed). Rounds alternate the two set-ups, so machine noise falls on both alike. Each
round starts the bot as a process, waits for /healthz 200 (with Matrix, its first sync
done), lets it idle `--idle` s, and reads VmRSS. The Matrix session is made once (one
login, one device of the bot account) and reused by every round, as in production; the
device is deleted at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.adapters.matrix.session import stored_session  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.e2e.bot_process import BotProcess, bot_environment, free_port  # noqa: E402
from tests.e2e_matrix.conftest import SynapseServer, start_synapse  # noqa: E402
from tests.mattermost_server import start_mattermost  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def matrix_env(synapse: SynapseServer) -> dict[str, str]:
    return {
        "INTRA_BOT_MATRIX__HOMESERVER": synapse.url,
        "INTRA_BOT_MATRIX__USER_ID": synapse.bot_user_id,
        "INTRA_BOT_MATRIX__PASSWORD": synapse.bot_password,
        "INTRA_BOT_MATRIX__PUBLIC_ROOM": synapse.public_room_alias,
        "INTRA_BOT_MATRIX__PRIVATE_ROOM": synapse.private_room_id,
    }


def one_round(env: dict[str, str], work: Path, idle: float) -> tuple[float, float]:
    """(ready after s, idle RSS MiB) of one bot process."""
    bot = BotProcess(env, work / f"bot-{time.monotonic_ns()}.log").start(wait_ready=False)
    try:
        bot.wait_ready(timeout=120)
        time.sleep(idle)  # the idle period being measured, not a synchronisation
        assert bot.process is not None
        return bot.ready_after, rss_mib(bot.process.pid)
    finally:
        bot.stop()


def summary(label: str, values: list[float], unit: str) -> str:
    return (
        f"{label:<34} median {statistics.median(values):6.1f} {unit}  "
        f"min {min(values):6.1f}  max {max(values):6.1f}  (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle", type=float, default=10.0)
    args = parser.parse_args()
    mattermost = start_mattermost()
    synapse = start_synapse()
    work = Path(tempfile.mkdtemp(prefix="intra-bot-rss-"))
    store_url = f"sqlite:///{work}/store.sqlite3"
    plain = bot_environment(mattermost, free_port(), store_url, INTRA_BOT_LOGGING__LEVEL="INFO")
    both = {**plain, **matrix_env(synapse)}
    results: dict[str, list[tuple[float, float]]] = {"mattermost": [], "both": []}
    try:
        for _ in range(args.rounds):
            results["mattermost"].append(one_round(plain, work, args.idle))
            results["both"].append(one_round(both, work, args.idle))
    finally:
        store = Store.open(store_url)
        session = stored_session(store, synapse.bot_user_id)
        store.close()
        if session is not None:
            user = urllib.parse.quote(synapse.bot_user_id, safe="")
            synapse.admin("DELETE", f"/_synapse/admin/v2/users/{user}/devices/{session.device_id}")
    print(f"idle {args.idle:.0f} s, {args.rounds} alternated rounds")
    for name, label in (("mattermost", "Mattermost only"), ("both", "Mattermost + Matrix")):
        print(summary(f"{label}: idle RSS", [rss for _, rss in results[name]], "MiB"))
        print(summary(f"{label}: ready after", [ready for ready, _ in results[name]], "s"))


if __name__ == "__main__":
    main()
