"""Club reminders: how late they post, and what the scheduler costs when nothing is due.

    python benchmarks/reminders.py                 # both parts, in-process poster
    python benchmarks/reminders.py --server        # lateness through the real Mattermost
    python benchmarks/reminders.py --idle 60       # length of the idle measurement (s)

(a) Lateness: 20 reminders, one per second, each a date job of the real `JobScheduler`
    driving the real `ClubService` and a SQLite store in a temporary directory. By default
    the poster records the instant `post_marked` is called (the scheduler, the plan, the
    claim: everything but the network); with --server it is the real
    `MattermostChannelPoster` and the instant is the post's `create_at` on the server
    (scripts/mattermost.sh up first; 20 posts go to ~domaine-intrapreneurs).
(b) Idle cost: a child process runs `JobScheduler` with the real content/ and nothing
    due; another child loads the same modules and content and just waits. Both are measured
    over the same window: CPU (getrusage), context switches and RSS (/proc/self/status).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.clock import utc_now  # noqa: E402
from bot.club.service import ClubService  # noqa: E402
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource  # noqa: E402
from bot.jobs import JobScheduler  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.integration.harness import club_at, reminder, write_content  # noqa: E402

RUNS = 20
LEAD = 3.0  # seconds from the start of the scheduler to the first reminder


class RecordingPoster:
    """Records the wall-clock instant each post is made; posts nothing."""

    def __init__(self) -> None:
        self.posted: dict[str, float] = {}

    async def post_marked(self, channel_name: str, text: str, marker: str) -> str:
        self.posted[marker] = time.time()
        return marker

    async def find_marked(self, channel_name: str, marker: str, since: dt.datetime) -> str | None:
        return None


async def lateness(work: Path, server: bool) -> list[float]:
    t0 = math.ceil(time.time() + LEAD)
    start = dt.datetime.fromtimestamp(t0 + RUNS + 60, dt.UTC)
    tag = f"bench{int(t0) % 100000}"
    # « before » in seconds: reminder i is due at t0 + i.
    content = write_content(
        work / "content",
        [reminder(f"{tag}-{i:02d}", f"{RUNS + 60 - i}s", text=f"Bench {tag}") for i in range(RUNS)],
        exceptions=[club_at(start)],
    )
    store = Store.open(f"sqlite:///{work / 'store.db'}")
    poster, api = _poster(server)
    service = ClubService(ContentSource(content), store, owner="bench", channel=poster)
    scheduler = JobScheduler(service)
    scheduler.start()
    planned = {
        f"reminder:{item.key}": item.at.timestamp()
        for item in service.planned(utc_now())
        if item.key.startswith(tag) and item.occurrence.start == start
    }
    assert len(planned) == RUNS and min(planned.values()) == t0, planned
    try:
        await asyncio.sleep(max(planned.values()) - time.time() + 1.0)
        posted = await _posted_at(poster, api, planned, server)
    finally:
        scheduler.shutdown()
        store.close()
        if api is not None:
            await api.close()
    missing = set(planned) - set(posted)
    assert not missing, f"not posted: {sorted(missing)}"
    return [posted[marker] - at for marker, at in planned.items()]


def _poster(server: bool) -> tuple[object, object]:
    if not server:
        return RecordingPoster(), None
    from bot.adapters.mattermost.api import MattermostApi
    from bot.adapters.mattermost.poster import MattermostChannelPoster
    from tests.e2e.conftest import start_mattermost

    mm = start_mattermost()
    api = MattermostApi(mm.url, mm.bot_token)
    return MattermostChannelPoster(api, mm.team_id), api


async def _posted_at(
    poster: object, api: object, planned: dict[str, float], server: bool
) -> dict[str, float]:
    if not server:
        assert isinstance(poster, RecordingPoster)
        return poster.posted
    from bot.adapters.mattermost.api import MattermostApi
    from bot.adapters.mattermost.poster import MARKER_PROP
    from tests.e2e.conftest import start_mattermost

    assert isinstance(api, MattermostApi)
    mm = start_mattermost()
    since = int((min(planned.values()) - 5) * 1000)
    posts = await api.posts_since(mm.public_channel_id, since)
    return {
        str(post["props"][MARKER_PROP]): post["create_at"] / 1000
        for post in posts
        if (post.get("props") or {}).get(MARKER_PROP) in planned
    }


# -- idle cost --------------------------------------------------------------------------


def _proc_status() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
            fields[key] = int(value.split()[0])
    return fields


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def idle_child(seconds: float, with_scheduler: bool, work: Path) -> dict[str, float]:
    content = ContentSource(DEFAULT_CONTENT_DIR)
    store = Store.open(f"sqlite:///{work / ('idle.db' if with_scheduler else 'base.db')}")
    scheduler = None
    if with_scheduler:
        service = ClubService(content, store, owner="idle", channel=RecordingPoster())
        scheduler = JobScheduler(service)
        scheduler.start()
    await asyncio.sleep(2.0)  # start-up work (first sweep, plan) is not idle
    cpu0, status0, t0 = _cpu(), _proc_status(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu1, status1, elapsed = _cpu(), _proc_status(), time.monotonic() - t0
    jobs = 0
    if scheduler is not None:
        jobs = len(scheduler._scheduler.get_jobs())
        scheduler.shutdown()
    store.close()
    switches = sum(
        status1[k] - status0[k] for k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")
    )
    return {
        "cpu_s": cpu1 - cpu0,
        "elapsed_s": elapsed,
        "rss_kib": status1["VmRSS"],
        "switches": switches,
        "jobs": jobs,
    }


def idle_cost(seconds: float, work: Path) -> tuple[dict[str, float], dict[str, float]]:
    def spawn(kind: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                kind,
                "--idle",
                str(seconds),
                "--work",
                str(work),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )

    children = [spawn("scheduler"), spawn("baseline")]
    results = []
    for child in children:
        out, _ = child.communicate(timeout=seconds + 60)
        assert child.returncode == 0, out
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", action="store_true", help="post through the real Mattermost")
    parser.add_argument("--idle", type=float, default=60.0, help="idle window in seconds")
    parser.add_argument("--skip-idle", action="store_true")
    parser.add_argument("--skip-lateness", action="store_true")
    parser.add_argument("--child", choices=["scheduler", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        logging.basicConfig(level=logging.ERROR)  # the first sweep skips a past reminder: quiet
        result = asyncio.run(idle_child(args.idle, args.child == "scheduler", args.work))
        print(json.dumps(result))
        return

    work = Path(tempfile.mkdtemp(prefix="intra-bot-reminders-"))
    if not args.skip_lateness:
        late = asyncio.run(lateness(work / "lateness", args.server))
        where = "the real Mattermost (create_at)" if args.server else "an in-process poster"
        ms = sorted(x * 1000 for x in late)
        print(f"(a) lateness over {RUNS} reminders, real scheduler + store, posted to {where}:")
        print(
            f"    median {statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * (len(ms) - 1))]:.1f} ms, "
            f"worst {ms[-1]:.1f} ms, best {ms[0]:.1f} ms after the scheduled second"
        )
        print(f"    ratio of the worst to one second: {ms[-1] / 1000:.3f}")
    if not args.skip_idle:
        with_scheduler, baseline = idle_cost(args.idle, work)
        window = with_scheduler["elapsed_s"]
        cpu_ms_per_min = with_scheduler["cpu_s"] * 1000 * 60 / window
        base_ms_per_min = baseline["cpu_s"] * 1000 * 60 / baseline["elapsed_s"]
        print(
            f"(b) idle over {window:.0f} s, real content, nothing due ({int(with_scheduler['jobs'])} jobs):"
        )
        print(
            f"    scheduler process: CPU {cpu_ms_per_min:.1f} ms per minute "
            f"({with_scheduler['cpu_s'] / window * 100:.3f} % of a core), "
            f"{with_scheduler['switches'] / window * 60:.0f} context switches per minute, "
            f"RSS {with_scheduler['rss_kib'] / 1024:.1f} MiB"
        )
        print(
            f"    baseline (same imports and content, no scheduler): CPU {base_ms_per_min:.1f} ms per minute, "
            f"{baseline['switches'] / baseline['elapsed_s'] * 60:.0f} switches per minute, "
            f"RSS {baseline['rss_kib'] / 1024:.1f} MiB"
        )
        print(
            f"    ratios: CPU {cpu_ms_per_min - base_ms_per_min:+.1f} ms per minute over the baseline; "
            f"RSS {with_scheduler['rss_kib'] / baseline['rss_kib']:.2f}x the baseline "
            f"(+{(with_scheduler['rss_kib'] - baseline['rss_kib']) / 1024:.1f} MiB)"
        )


if __name__ == "__main__":
    main()
