"""« Prévenez-moi » at scale (issue 23): the club's personal DM to N subscribers, delivered
by the real bot (`python -m bot run`) through the real Mattermost and the real Synapse.

    python benchmarks/personal_reminders.py [--platform mattermost|matrix|both]
                                            [--subscribers 500] [--pace tchap|lifted|both]
                                            [--rounds 1] [--keep]

Run it under the shared servers' lock: `flock /tmp/intra-e2e.lock python benchmarks/...`.

Each run:
- creates N fresh accounts on the server with the admin API. Mattermost: bot accounts
  (POST /bots), since an unlicensed server refuses a user beyond 250 active ones
  (maxUsersHardLimit in the server's channels/app/limits.go; bots are not counted) and
  the shared server has its own; the bot's path is the same for them (a DM channel, a
  post), and as nobody is logged in as them no websocket fan-out differs. They are in no
  team or channel: DMs need none, and joins of the public channel would add N welcome
  DMs. Synapse: PUT /_synapse/admin/v2/users/..., no password: they never log in, so each
  DM is an encrypted room they are invited to and never join;
- subscribes them to the club by writing the subscriptions straight into a new SQLite
  store (`SubscriptionRecords.subscribe`) in a temporary directory: the `club
  prevenez-moi` command itself is covered by the e2e tests
  (tests/e2e/bot/test_subscriptions_e2e.py, tests/e2e_matrix/test_matrix_subscriptions.py);
- starts `python -m bot run` configured by INTRA_BOT_* variables only: the defaults of
  config.example.toml plus the server, the store, the HTTP port, the content directory,
  the public reminders off and, to make the notice due at once,
  `subscriptions.club_before = "3h"`, `club_at = ""`, `sweep_seconds = 1`; on Matrix the
  limiter at Tchap's pace (the defaults: 1 request/s, burst 10) or lifted (50/s, burst 50);
- once the bot is ready, moves the club to 3 h minus 1 min from now (content rewritten,
  SIGHUP): the notice is due, and the club does not start before the slowest run ends
  (with the e2e tests' « 100 s ahead, 2 min before », the notices still queued when the
  club starts would be dropped as past);
- measures, from the bot's log timestamps, the first `event=club_notices_queued` to the
  last `event=club_notice_sent`, and reads the bot's request counters on /healthz
  before the reload and after the last DM (Mattermost: `rest_calls`; Matrix: the
  limiter's `requests` and `throttled_s`, /sync excluded: it has its own bucket);
- checks on the server that each of the N got exactly one notice: Mattermost, the admin
  reads the bot<->user DM channel's posts; Matrix, the admin API lists the rooms the
  bot joined during the run, each room's state (who was invited) and its messages (the
  bot's encrypted events): each user must be invited to exactly one new room holding
  exactly one message from the bot. The log is checked too (one `club_notice_sent` per
  user, no `outbox_retry`, `outbox_given_up`, `club_notice_dropped`, ERROR);
- then removes what it made (unless --keep): Mattermost, the accounts (permanently);
  Synapse, the DM rooms (purged), the users (deactivated) and the bot's new device.

Prints one line per run: N, seconds, DMs per second (overall, and in the first and the
second half of the notices: does it slow down?), requests per DM, doubles and losses;
on Matrix also the pace's floor, (requests - burst) / rate, and the time over it; on
Mattermost the floor its rate limit would set, were it on (requests - 100) / 10. With
--rounds > 1 the runs alternate (the order reversed every other round) and a summary gives
each configuration's median, min and max.

Measured on 2026-12-07 (2 cores, shared servers), 500 subscribers, no double, no loss:
Mattermost 72-81 s (4 runs, median of 3: 77.8 s), 6.2-6.9 DMs/s, 2.01 requests/DM (DM
channel + post), a little slower in the second half; Synapse lifted 370 s, 1.35 DMs/s,
7.00 requests/DM (before the sync fix of the same day; 6.02 after, N=100), bound by
Synapse's createRoom (0.44 s of the 0.74 s of each DM, one DM at a time); Synapse at
Tchap's pace 2992 s (50 min), 0.17 DMs/s, 6.00 requests/DM: exactly the pace's floor.
Per DM at Tchap's pace: createRoom, keys/query, members, keys/query again, sendToDevice
(the room key to the bot's other devices), send. Subscribers with devices would add a
keys/claim.

Mattermost's own rate limit (RateLimitSettings, 10 requests/s and a burst of 100 per
token when enabled) is off on the test server (scripts/mattermost.sh exports
MM_RATELIMITSETTINGS_ENABLE=false and offers no switch); the bot's driver retries a 429
honouring Retry-After (bot/adapters/mattermost/api.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.clock import utc_now  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.subscriptions.records import SubscriptionRecords  # noqa: E402
from bot.subscriptions.schema import CLUB  # noqa: E402
from tests.e2e.bot_process import (  # noqa: E402
    BotProcess,
    bot_environment,
    free_port,
    process_environment,
)
from tests.e2e_matrix.conftest import PICKLE_KEY, SynapseServer, start_synapse  # noqa: E402
from tests.integration.harness import club_at, write_content  # noqa: E402
from tests.mattermost_server import MattermostServer, start_mattermost  # noqa: E402

PACES = {
    "tchap": (1.0, 10),  # config.example.toml's defaults: Tchap's pace
    "lifted": (50.0, 50),
}
# Mattermost's RateLimitSettings defaults (PerSec, MaxBurst), per client address when on.
MATTERMOST_LIMIT = (10.0, 100)
BEFORE = dt.timedelta(hours=3)  # the notice's lead; the club is moved to now + BEFORE - 1 min
READY_TIMEOUT = 180.0
STALL = 300.0  # no notice sent for this long: the run is stuck, stop and report
WORKERS = 8  # admin API calls in parallel (creating users, checking, cleaning up)

TIME = re.compile(r"^time=(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
SENT = re.compile(r"event=club_notice_sent .*?user_id=(\S+)")
TROUBLE = ("event=outbox_retry", "event=outbox_given_up", "event=club_notice_dropped")

T = TypeVar("T")
R = TypeVar("R")


def parallel(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(function, items))


def log_time(line: str) -> float | None:
    found = TIME.match(line)
    if found is None:
        return None
    return dt.datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()


@dataclass
class Run:
    platform: str
    pace: str  # "" on Mattermost
    subscribers: int
    seconds: float = float("nan")
    requests: int = 0
    throttled: float = 0.0
    sent_lines: int = 0
    halves: tuple[float, float] = (float("nan"), float("nan"))  # DMs/s, first and second half
    doubles: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    troubles: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.platform} ({self.pace})" if self.pace else self.platform

    def line(self) -> str:
        n = self.subscribers
        rate = n / self.seconds if self.seconds > 0 else float("nan")
        text = (
            f"{self.label:<20} N={n}  {self.seconds:7.1f} s  {rate:6.2f} DMs/s  "
            f"{self.requests / n:.2f} requests/DM ({self.requests})  "
            f"sent lines {self.sent_lines}  doubles {len(self.doubles)}  "
            f"losses {len(self.losses)}  halves {self.halves[0]:.2f}/{self.halves[1]:.2f} DMs/s"
        )
        if not self.pace:  # what Mattermost's rate limit would allow, were it on
            per_second, burst = MATTERMOST_LIMIT
            floor = max(0, self.requests - burst) / per_second
            text += f"  floor if rate-limited (10/s, burst 100) {floor:.0f} s"
        if self.pace:
            per_second, burst = PACES[self.pace]
            floor = max(0, self.requests - burst) / per_second
            over = self.seconds / floor if floor else float("nan")
            text += f"  pace floor {floor:.0f} s (x{over:.2f})  throttled {self.throttled:.0f} s"
        if self.note:
            text += f"  [{self.note}]"
        return text


# -- the bot and its log ----------------------------------------------------------------


def start_bot(env: dict[str, str], work: Path) -> BotProcess:
    bot = BotProcess(env, work / "bot.log").start(wait_ready=False)
    bot.wait_ready(READY_TIMEOUT)
    return bot


def counters(bot: BotProcess, platform: str) -> tuple[int, float]:
    """The bot's own count of its requests to the server (and the time it throttled them)."""
    _, health = bot.health()
    parts = health["parts"]
    if platform == "mattermost":
        return int(parts["mattermost_api"]["rest_calls"]), 0.0
    return int(parts["matrix"]["requests"]), float(parts["matrix"]["throttled_s"])


def make_due(bot: BotProcess, content: Path) -> None:
    """Move the club to 3 h minus a minute from now: its notice (3 h before) is due."""
    start = dt.datetime.fromtimestamp(int(time.time()) + BEFORE.total_seconds() - 60, dt.UTC)
    write_content(content, [], exceptions=[club_at(start)])
    assert bot.process is not None
    os.kill(bot.process.pid, signal.SIGHUP)


def follow(bot: BotProcess, run: Run) -> dict[str, int]:
    """Tail the log until every notice is sent, the bot stalls or dies; sent per user."""
    n = run.subscribers
    per_user: Counter[str] = Counter()
    queued_at: float | None = None
    last_at: float | None = None
    sent_at: list[float] = []
    last_progress = time.monotonic()
    with bot.log_path.open(errors="replace") as log:
        pending = ""
        while True:
            chunk = log.read()
            pending += chunk
            *lines, pending = pending.split("\n")
            for line in lines:
                if "event=club_notices_queued" in line and queued_at is None:
                    queued_at = log_time(line)
                    print(f"  {line[line.index('event=') :]}", flush=True)
                elif (found := SENT.search(line)) is not None:
                    per_user[found[1]] += 1
                    last_at = log_time(line)
                    if last_at is not None:
                        sent_at.append(last_at)
                    last_progress = time.monotonic()
                    done = sum(per_user.values())
                    if done % 100 == 0:
                        print(f"  {done} sent", flush=True)
                if any(word in line for word in TROUBLE) or " level=ERROR " in line:
                    run.troubles.append(line)
                    print(f"  ! {line}", flush=True)
            if sum(per_user.values()) >= n:
                break
            assert bot.process is not None
            if bot.process.poll() is not None:
                run.note = f"the bot exited ({bot.process.returncode})"
                break
            if time.monotonic() - last_progress > STALL:
                run.note = f"stalled: nothing sent for {STALL:.0f} s"
                break
            time.sleep(0.2)  # tailing a log, not a synchronisation
    run.sent_lines = sum(per_user.values())
    if queued_at is not None and last_at is not None:
        run.seconds = last_at - queued_at
        half = len(sent_at) // 2
        if half:
            middle = sent_at[half - 1]
            run.halves = (half / (middle - queued_at), (len(sent_at) - half) / (last_at - middle))
    return dict(per_user)


def settle_and_stop(bot: BotProcess, run: Run, before: tuple[int, float]) -> None:
    time.sleep(2)  # two more sweeps and outbox passes: a double would show in the log
    after = counters(bot, run.platform)
    run.requests = after[0] - before[0]
    run.throttled = after[1] - before[1]
    bot.stop()
    text = bot.log_text()
    run.sent_lines = text.count("event=club_notice_sent")
    if "Traceback" in text:
        run.troubles.append("a Traceback in the bot's log")


def content_dir(work: Path) -> Path:
    return write_content(work / "content", [])


def subscribe(store_url: str, platform: str, user_ids: list[str]) -> None:
    store = Store.open(store_url)
    try:
        records = SubscriptionRecords(store)
        now = utc_now()
        for user_id in user_ids:
            records.subscribe(platform, user_id, CLUB, now)
    finally:
        store.close()


def common_env(work: Path, content: Path, port: int) -> dict[str, str]:
    return {
        "INTRA_BOT_HTTP__HOST": "127.0.0.1",
        "INTRA_BOT_HTTP__PORT": str(port),
        "INTRA_BOT_HTTP__PUBLIC_URL": f"http://127.0.0.1:{port}",
        "INTRA_BOT_STORE__URL": f"sqlite:///{work / 'store.sqlite3'}",
        "INTRA_BOT_CONTENT__DIR": str(content),
        "INTRA_BOT_LOGGING__LEVEL": "INFO",
        "INTRA_BOT_REMINDERS__ENABLED": "false",
        "INTRA_BOT_SUBSCRIPTIONS__CLUB_BEFORE": f"{int(BEFORE.total_seconds() // 3600)}h",
        "INTRA_BOT_SUBSCRIPTIONS__CLUB_AT": "",
        "INTRA_BOT_SUBSCRIPTIONS__SWEEP_SECONDS": "1",
    }


def judge(run: Run, wanted: list[str], got: dict[str, int]) -> None:
    """Doubles and losses from the server's count of notices per user."""
    run.doubles = [user for user in wanted if got.get(user, 0) > 1]
    run.losses = [user for user in wanted if got.get(user, 0) == 0]


# -- Mattermost -------------------------------------------------------------------------


def mattermost_run(server: MattermostServer, n: int, keep: bool) -> Run:
    run = Run("mattermost", "", n)
    tag = uuid.uuid4().hex[:6]
    work = Path(tempfile.mkdtemp(prefix="intra-bot-bench-pr-"))
    admin = server.client(server.admin_token)
    users: list[str] = []  # as created: removed even when a creation fails half-way
    try:
        started = time.monotonic()

        def create(i: int) -> str:
            name = f"pr{tag}-{i:03d}"
            response = admin.post("/bots", json={"username": name, "display_name": name})
            response.raise_for_status()
            user_id = str(response.json()["user_id"])
            users.append(user_id)
            return user_id

        parallel(create, range(n))
        print(f"  {n} accounts created in {time.monotonic() - started:.1f} s", flush=True)
        store_url = f"sqlite:///{work / 'store.sqlite3'}"
        subscribe(store_url, "mattermost", users)
        content = content_dir(work)
        port = free_port()
        env = bot_environment(server, port, store_url, **common_env(work, content, port))
        bot = start_bot(env, work)
        try:
            before = counters(bot, "mattermost")
            make_due(bot, content)
            follow(bot, run)
            settle_and_stop(bot, run, before)
        finally:
            bot.stop()

        def notices(user_id: str) -> int:
            channel = admin.post("/channels/direct", json=[server.bot_user_id, user_id])
            channel.raise_for_status()
            posts = admin.get(f"/channels/{channel.json()['id']}/posts", params={"per_page": 200})
            posts.raise_for_status()
            return sum(
                1
                for post in posts.json()["posts"].values()
                if post["user_id"] == server.bot_user_id and "Club intras" in post["message"]
            )

        judge(run, users, dict(zip(users, parallel(notices, users), strict=True)))
    finally:
        if not keep:
            parallel(lambda u: admin.delete(f"/users/{u}", params={"permanent": "true"}), users)
            print(f"  cleaned up: {len(users)} accounts deleted", flush=True)
        admin.close()
        if keep:
            print(f"  kept: {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return run


# -- Synapse ----------------------------------------------------------------------------


def quoted(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def joined_rooms(server: SynapseServer, user_id: str) -> set[str]:
    found = server.admin("GET", f"/_synapse/admin/v1/users/{quoted(user_id)}/joined_rooms")
    assert isinstance(found, dict)
    return set(found["joined_rooms"])


def devices(server: SynapseServer, user_id: str) -> set[str]:
    found = server.admin("GET", f"/_synapse/admin/v2/users/{quoted(user_id)}/devices")
    assert isinstance(found, dict)
    return {str(d["device_id"]) for d in found.get("devices", [])}


def room_facts(server: SynapseServer, room: str) -> tuple[list[str], int]:
    """Who is invited to `room`, and how many messages the bot sent there."""
    state = server.admin("GET", f"/_synapse/admin/v1/rooms/{quoted(room)}/state")
    assert isinstance(state, dict)
    invited = [
        str(e["state_key"])
        for e in state["state"]
        if e["type"] == "m.room.member" and e["content"].get("membership") == "invite"
    ]
    messages = server.admin(
        "GET", f"/_synapse/admin/v1/rooms/{quoted(room)}/messages?dir=b&limit=100"
    )
    assert isinstance(messages, dict)
    sent = sum(
        1
        for e in messages["chunk"]
        if e["sender"] == server.bot_user_id
        and e["type"] in ("m.room.encrypted", "m.room.message")
        and "state_key" not in e
    )
    return invited, sent


def matrix_run(server: SynapseServer, n: int, pace: str, keep: bool) -> Run:
    run = Run("matrix", pace, n)
    tag = uuid.uuid4().hex[:6]
    work = Path(tempfile.mkdtemp(prefix="intra-bot-bench-pr-"))
    users = [f"@pr{tag}-{i:03d}:{server.server_name}" for i in range(n)]
    rooms_before = joined_rooms(server, server.bot_user_id)
    devices_before = devices(server, server.bot_user_id)
    new_rooms: set[str] = set()
    try:
        started = time.monotonic()
        parallel(
            lambda u: server.admin(
                "PUT", f"/_synapse/admin/v2/users/{quoted(u)}", {"displayname": u[1:9]}
            ),
            users,
        )
        print(f"  {n} accounts created in {time.monotonic() - started:.1f} s", flush=True)
        store_url = f"sqlite:///{work / 'store.sqlite3'}"
        subscribe(store_url, "matrix", users)
        content = content_dir(work)
        port = free_port()
        per_second, burst = PACES[pace]
        env = process_environment()
        env.update(common_env(work, content, port))
        env.update(
            {
                "INTRA_BOT_MATRIX__HOMESERVER": server.url,
                "INTRA_BOT_MATRIX__PICKLE_KEY": PICKLE_KEY,
                "INTRA_BOT_MATRIX__USER_ID": server.bot_user_id,
                "INTRA_BOT_MATRIX__PASSWORD": server.bot_password,
                "INTRA_BOT_MATRIX__PUBLIC_ROOM": server.public_room_alias,
                "INTRA_BOT_MATRIX__PRIVATE_ROOM": server.private_room_id,
                "INTRA_BOT_MATRIX__REQUESTS_PER_SECOND": str(per_second),
                "INTRA_BOT_MATRIX__BURST": str(burst),
            }
        )
        bot = start_bot(env, work)
        try:
            time.sleep(burst / per_second)  # the start-up's requests spent the burst: refill it
            before = counters(bot, "matrix")
            make_due(bot, content)
            follow(bot, run)
            settle_and_stop(bot, run, before)
        finally:
            bot.stop()
        new_rooms = joined_rooms(server, server.bot_user_id) - rooms_before
        facts = parallel(lambda room: room_facts(server, room), sorted(new_rooms))
        wanted = set(users)
        rooms_per_user: Counter[str] = Counter()
        sent_per_user: Counter[str] = Counter()
        for invited, sent in facts:
            for user in invited:
                if user in wanted:
                    rooms_per_user[user] += 1
                    sent_per_user[user] += sent
        judge(run, users, dict(sent_per_user))
        extra_rooms = [u for u in users if rooms_per_user[u] > 1]
        if extra_rooms:
            run.note = f"{len(extra_rooms)} users with more than one DM room"
    finally:
        if keep:
            print(f"  kept: {work}", flush=True)
        else:
            matrix_clean_up(server, users, new_rooms, devices_before)
            shutil.rmtree(work, ignore_errors=True)
    return run


def matrix_clean_up(
    server: SynapseServer, users: list[str], rooms: set[str], devices_before: set[str]
) -> None:
    """Purge the run's DM rooms, deactivate its users, delete the bot's new device."""

    def delete_room(room: str) -> str:
        done = server.admin("DELETE", f"/_synapse/admin/v2/rooms/{quoted(room)}", {"purge": True})
        assert isinstance(done, dict)
        return str(done["delete_id"])

    def finished(delete_id: str) -> bool:
        status = server.admin("GET", f"/_synapse/admin/v2/rooms/delete_status/{delete_id}")
        assert isinstance(status, dict)
        return str(status.get("status")) in ("complete", "failed")

    started = time.monotonic()
    pending = parallel(delete_room, sorted(rooms))

    def deactivate(user: str) -> None:
        try:
            server.admin("POST", f"/_synapse/admin/v1/deactivate/{quoted(user)}", {})
        except urllib.error.HTTPError as error:  # never created (a run that failed early)
            if error.code != 404:
                raise

    parallel(deactivate, users)
    new_devices = sorted(devices(server, server.bot_user_id) - devices_before)
    if new_devices:
        server.admin(
            "POST",
            f"/_synapse/admin/v2/users/{quoted(server.bot_user_id)}/delete_devices",
            {"devices": new_devices},
        )
    deadline = time.monotonic() + 300
    while pending and time.monotonic() < deadline:
        pending = [d for d, ok in zip(pending, parallel(finished, pending), strict=True) if not ok]
        if pending:
            time.sleep(1)  # polling the server's background purge, with a deadline
    print(
        f"  cleaned up: {len(rooms)} rooms purged ({len(pending)} unfinished), {len(users)} "
        f"users deactivated, bot devices {new_devices} deleted, "
        f"in {time.monotonic() - started:.0f} s",
        flush=True,
    )


# -- main -------------------------------------------------------------------------------


def report(run: Run) -> None:
    print(run.line(), flush=True)
    for kind, users in (("doubles", run.doubles), ("losses", run.losses)):
        if users:
            print(f"  {kind}: {', '.join(users[:10])}{' ...' if len(users) > 10 else ''}")
    for line in run.troubles[:20]:
        print(f"  trouble: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", choices=["mattermost", "matrix", "both"], default="both")
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--pace", choices=["tchap", "lifted", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--keep", action="store_true", help="keep the users, rooms and the temporary directory"
    )
    args = parser.parse_args()
    configs: list[tuple[str, str]] = []
    if args.platform in ("mattermost", "both"):
        configs.append(("mattermost", ""))
    if args.platform in ("matrix", "both"):
        paces = ["lifted", "tchap"] if args.pace == "both" else [args.pace]
        configs.extend(("matrix", pace) for pace in paces)
    mattermost = start_mattermost() if any(p == "mattermost" for p, _ in configs) else None
    synapse = start_synapse() if any(p == "matrix" for p, _ in configs) else None
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    runs: list[Run] = []
    for round_ in range(args.rounds):
        for platform, pace in configs if round_ % 2 == 0 else list(reversed(configs)):
            label = f"{platform} ({pace})" if pace else platform
            print(f"round {round_ + 1}: {label}, {args.subscribers} subscribers", flush=True)
            if platform == "mattermost":
                assert mattermost is not None
                run = mattermost_run(mattermost, args.subscribers, args.keep)
            else:
                assert synapse is not None
                run = matrix_run(synapse, args.subscribers, pace, args.keep)
            report(run)
            runs.append(run)
    if args.rounds > 1:
        print("summary:")
        for platform, pace in configs:
            times = [r.seconds for r in runs if (r.platform, r.pace) == (platform, pace)]
            label = f"{platform} ({pace})" if pace else platform
            print(
                f"{label:<20} median {statistics.median(times):7.1f} s  "
                f"min {min(times):7.1f}  max {max(times):7.1f}  (n={len(times)})"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)
    if any(r.doubles or r.losses or r.note for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except urllib.error.HTTPError as error:
        print(f"{error.code} {error.url}: {error.read()[:500]!r}", file=sys.stderr)
        raise
