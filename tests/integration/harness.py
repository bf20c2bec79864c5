"""What the integration tests share: content copies with chosen reminders, a poster that
several processes append to, and a worker that plays one bot replica in its own process."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import multiprocessing
import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select

from bot.club.agenda import rule_date
from bot.club.reminders import PlannedReminder
from bot.club.service import ClubService
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.schema import reminder_posts
from bot.store import Store

PARIS = ZoneInfo("Europe/Paris")
CHANNEL = "domaine-intrapreneurs"
# Spawned, not forked: a replica shares nothing with the test process but the files.
SPAWN = multiprocessing.get_context("spawn")

Clock = Callable[[], dt.datetime]


# -- content ------------------------------------------------------------------------


def reminder(rid: str, before: str, *, at: str | None = None, text: str = "") -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": rid,
        "before": before,
        "channel": CHANNEL,
        "template": (text or f"Rappel {rid}") + " : club {quand}, {date} à {heure}.",
    }
    if at is not None:
        entry["at"] = at
    return entry


def write_content(
    target: Path,
    reminders: list[dict[str, Any]],
    *,
    exceptions: list[dict[str, Any]] | None = None,
    rule: dict[str, Any] | None = None,
) -> Path:
    """A copy of the real content whose club has these reminders (and exceptions, rule)."""
    target.mkdir(parents=True, exist_ok=True)
    for source in DEFAULT_CONTENT_DIR.glob("*.yaml"):
        shutil.copyfile(source, target / source.name)
    club = yaml.safe_load((target / "club.yaml").read_text(encoding="utf-8"))
    club["reminders"] = reminders
    if exceptions is not None:
        club["schedule"]["exceptions"] = exceptions
    if rule is not None:
        club["schedule"]["rule"] = rule
    (target / "club.yaml").write_text(
        yaml.safe_dump(club, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return target


def club_at(start: dt.datetime, duration: dt.timedelta = dt.timedelta(hours=1)) -> dict[str, Any]:
    """An exception moving the usual club of `start`'s month to `start` (Paris wall time)."""
    local = start.astimezone(PARIS).replace(microsecond=0)
    end = min(local + duration, local.replace(hour=23, minute=59, second=59))
    usual = rule_date("jeudi", 1, local.year, local.month)
    return {
        "date": usual,
        "moved_to": local.date(),
        "start": local.strftime("%H:%M:%S"),
        "end": end.strftime("%H:%M:%S"),
        "note": "Club de test.",
    }


def unique_prefix() -> str:
    return "t" + uuid.uuid4().hex[:10]


def planned_for(content_dir: Path, club: dt.datetime, prefix: str) -> list[PlannedReminder]:
    """The test's reminders (ids starting with `prefix`) of the club starting at `club`."""
    service = ClubService(ContentSource(content_dir), None, owner="planner")
    return [
        item
        for item in service.planned(club)
        if item.key.startswith(prefix) and item.occurrence.start == club
    ]


# -- a poster that processes share ----------------------------------------------------


class FilePoster:
    """A `ChannelPoster` appending each post as one JSON line to a file shared by processes.

    Modes: "normal"; "block" (claims are made, then posting never returns: the process is
    killed while it holds the lease); "crash-after-post" (the post goes out, then the
    process dies before it records it in the store).
    """

    ready = True  # connected from the start
    name = "file"

    def __init__(
        self,
        path: Path,
        clock: Clock,
        *,
        delay: float = 0.0,
        mode: str = "normal",
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.delay = delay
        self.mode = mode

    async def post_marked(self, channel_name: str, text: str, marker: str) -> str:
        if self.mode == "block":
            _touch(self.path.with_suffix(".entered"))
            while True:  # a hung request: only SIGKILL ends this
                time.sleep(3600)
        if self.delay:
            await asyncio.sleep(self.delay)
        post_id = uuid.uuid4().hex
        line = {
            "id": post_id,
            "channel": channel_name,
            "marker": marker,
            "text": text,
            "pid": os.getpid(),
            "at": self.clock().isoformat(),
        }
        append_line(self.path, json.dumps(line, ensure_ascii=False))
        if self.mode == "crash-after-post":
            os.kill(os.getpid(), signal.SIGKILL)
        return post_id

    async def find_marked(self, channel_name: str, marker: str, since: dt.datetime) -> str | None:
        for post in read_posts(self.path):
            if (
                post["channel"] == channel_name
                and post["marker"] == marker
                and dt.datetime.fromisoformat(post["at"]) >= since
            ):
                return str(post["id"])
        return None


def append_line(path: Path, line: str) -> None:
    # One write(2) on an O_APPEND descriptor: lines from several processes never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def read_posts(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def posts_by_marker(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for post in read_posts(path):
        counts[post["marker"]] = counts.get(post["marker"], 0) + 1
    return counts


def _touch(path: Path) -> None:
    path.write_text(str(os.getpid()), encoding="utf-8")


# -- a replica in its own process -------------------------------------------------------


@dataclass(frozen=True)
class Replica:
    """One bot replica: its content, the shared store and posts file, and what it does.

    Each round sets the replica's clock, waits at the barrier with the other replicas,
    then runs `sweep` or fires one key, as the scheduler's date job would.
    """

    content_dir: str
    store_url: str
    posts_path: str
    owner: str
    log_path: str
    rounds: tuple[tuple[str, str], ...]  # (clock as ISO 8601, "sweep" or "fire:<key>")
    lease_s: float = 120.0
    grace_h: float = 6.0
    mode: str = "normal"
    post_delay: float = 0.0


def run_replica(replica: Replica, barrier: Barrier | None) -> None:
    """The target of a spawned process."""
    handler = logging.FileHandler(replica.log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("pid=%(process)d level=%(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    asyncio.run(_replica_main(replica, barrier))


async def _replica_main(replica: Replica, barrier: Barrier | None) -> None:
    now = [dt.datetime.fromisoformat(replica.rounds[0][0])]
    store = Store.open(replica.store_url)
    service = ClubService(
        ContentSource(replica.content_dir),
        store,
        owner=replica.owner,
        channel=FilePoster(
            Path(replica.posts_path),
            lambda: now[0],
            delay=replica.post_delay,
            mode=replica.mode,
        ),
        clock=lambda: now[0],
        grace=dt.timedelta(hours=replica.grace_h),
        lease=dt.timedelta(seconds=replica.lease_s),
        retry_delay=0.01,
    )
    try:
        for clock, action in replica.rounds:
            now[0] = dt.datetime.fromisoformat(clock)
            if barrier is not None:
                barrier.wait(timeout=60)
            if action == "sweep":
                await service.sweep()
            else:
                await service.fire_key(action.removeprefix("fire:"))
    finally:
        store.close()


@dataclass
class ReplicaGroup:
    """Spawned replicas; holds the barrier too (the children need it alive until they start)."""

    processes: list[Any]
    barrier: Barrier | None

    def join(self, timeout: float = 60.0) -> list[int | None]:
        """Wait for every replica (killing stragglers); their exit codes."""
        deadline = time.monotonic() + timeout
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in self.processes:
            if process.is_alive():
                process.kill()
                process.join()
        return [process.exitcode for process in self.processes]


def start_replicas(replicas: Iterable[Replica], *, synchronised: bool = True) -> ReplicaGroup:
    replicas = list(replicas)
    barrier = SPAWN.Barrier(len(replicas)) if synchronised else None
    processes = [
        SPAWN.Process(target=run_replica, args=(replica, barrier), name=replica.owner)
        for replica in replicas
    ]
    for process in processes:
        process.start()
    return ReplicaGroup(processes, barrier)


def wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} did not appear within {timeout} s")
        time.sleep(0.01)


def reminder_row(store: Store, key: str) -> dict[str, Any]:
    with store.engine.connect() as connection:
        found = connection.execute(select(reminder_posts).where(reminder_posts.c.key == key)).one()
    return dict(found._mapping)
