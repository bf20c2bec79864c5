"""Exactly once across real processes sharing one real store (a SQLite file, PostgreSQL).

Each replica is a spawned process running the real `ClubService` with a fixed clock and a
poster that appends to a shared file, so that every post made by any process is counted.
"""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path

import pytest

from bot.club.service import ClubService
from bot.content.loader import ContentSource
from bot.store import Store
from tests.integration.harness import (
    PARIS,
    FilePoster,
    Replica,
    planned_for,
    posts_by_marker,
    read_posts,
    reminder,
    reminder_row,
    start_replicas,
    wait_for,
    write_content,
)

# The first Thursday of January 2027: a usual club, far from any daylight-saving change.
CLUB = dt.datetime(2027, 1, 7, 16, 0, tzinfo=PARIS)
LEASE = dt.timedelta(seconds=120)
ROUNDS = 6
SECOND = dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("actions", "ghost"),
    [
        (("fire", "fire", "fire"), False),
        (("sweep", "sweep", "sweep"), False),
        (("fire", "sweep", "sweep"), True),
    ],
    ids=["date-jobs", "sweeps", "takeover-of-a-dead-holder"],
)
def test_replicas_racing_for_the_same_reminders_post_each_once(
    tmp_path: Path, store_url: str, prefix: str, actions: tuple[str, ...], ghost: bool
) -> None:
    """Three replicas fire the same reminders at the same instant, round after round.

    With `ghost`, every reminder was claimed earlier by a replica that died before posting:
    the three race to take it over once its lease has run out.
    """
    content = write_content(
        tmp_path / "content", [reminder(f"{prefix}-{i}", f"{i + 1}h") for i in range(ROUNDS)]
    )
    items = planned_for(content, CLUB, prefix)
    assert [item.occurrence.start for item in items] == [CLUB] * ROUNDS
    # Tables are created here, before the replicas start: replicas opening a fresh store at
    # the same instant is a different matter (create_all is not race-free).
    store = Store.open(store_url)
    if ghost:
        for item in items:
            assert store.claim_reminder(item.key, "ghost", item.at - 10 * 60 * SECOND, LEASE)
    store.close()
    posts = tmp_path / "posts.jsonl"
    replicas = [
        Replica(
            content_dir=str(content),
            store_url=store_url,
            posts_path=str(posts),
            owner=f"replica-{index}",
            log_path=str(tmp_path / f"replica-{index}.log"),
            rounds=tuple(
                (
                    (item.at + SECOND / 5).isoformat(),
                    "sweep" if action == "sweep" else f"fire:{item.key}",
                )
                for item in items
            ),
            lease_s=LEASE.total_seconds(),
            post_delay=0.02,  # the claim is held a little while the post is under way
        )
        for index, action in enumerate(actions)
    ]
    assert start_replicas(replicas).join() == [0] * len(replicas)

    assert posts_by_marker(posts) == {f"reminder:{item.key}": 1 for item in items}
    logs = "".join((tmp_path / f"replica-{i}.log").read_text() for i in range(len(replicas)))
    assert logs.count("event=reminder_posted") == ROUNDS
    assert logs.count("takeover=True") == (ROUNDS if ghost else 0)
    store = Store.open(store_url)
    try:
        by_marker = {post["marker"]: post for post in read_posts(posts)}
        for item in items:
            row = reminder_row(store, item.key)
            assert row["state"] == "posted"
            assert row["post_id"] == by_marker[f"reminder:{item.key}"]["id"]
            assert row["attempts"] == (2 if ghost else 1)
    finally:
        store.close()


def _one_reminder(tmp_path: Path, prefix: str) -> tuple[Path, Path, dt.datetime, str]:
    content = write_content(tmp_path / "content", [reminder(f"{prefix}-h1", "1h")])
    [item] = planned_for(content, CLUB, prefix)
    return content, tmp_path / "posts.jsonl", item.at, item.key


def _dying_replica(
    tmp_path: Path, content: Path, store_url: str, posts: Path, due: dt.datetime, mode: str
) -> Replica:
    return Replica(
        content_dir=str(content),
        store_url=store_url,
        posts_path=str(posts),
        owner="replica-a",
        log_path=str(tmp_path / "replica-a.log"),
        rounds=(((due + SECOND).isoformat(), "sweep"),),
        lease_s=LEASE.total_seconds(),
        mode=mode,
    )


def _survivor(content: Path, store: Store, posts: Path, now: list[dt.datetime]) -> ClubService:
    return ClubService(
        ContentSource(content),
        store,
        owner="replica-b",
        channel=FilePoster(posts, lambda: now[0]),
        clock=lambda: now[0],
        lease=LEASE,
    )


async def test_killed_while_posting_the_reminder_is_posted_once_after_the_lease(
    tmp_path: Path, store_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    content, posts, due, key = _one_reminder(tmp_path, prefix)
    group = start_replicas(
        [_dying_replica(tmp_path, content, store_url, posts, due, "block")], synchronised=False
    )
    wait_for(posts.with_suffix(".entered"))
    group.processes[0].kill()
    assert group.join() == [-signal.SIGKILL]
    assert read_posts(posts) == []

    store = Store.open(store_url)
    try:
        assert reminder_row(store, key)["owner"] == "replica-a"
        now = [due + 60 * SECOND]
        survivor = _survivor(content, store, posts, now)
        caplog.set_level("INFO", logger="bot.club.service")
        await survivor.sweep()  # the dead replica's lease still holds
        assert read_posts(posts) == []
        assert store.reminder_states([key]) == {key: "claimed"}

        now[0] = due + SECOND + LEASE + SECOND
        await survivor.sweep()
        assert posts_by_marker(posts) == {f"reminder:{key}": 1}
        assert f"event=reminder_claimed key={key} owner=replica-b takeover=True" in caplog.text
        now[0] += 10 * 60 * SECOND
        await survivor.sweep()
        await survivor.fire_key(key)
        assert posts_by_marker(posts) == {f"reminder:{key}": 1}
        row = reminder_row(store, key)
        assert (row["state"], row["owner"], row["attempts"]) == ("posted", "replica-b", 2)
    finally:
        store.close()


async def test_posted_then_killed_before_recording_it_is_not_posted_again(
    tmp_path: Path, store_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    content, posts, due, key = _one_reminder(tmp_path, prefix)
    group = start_replicas(
        [_dying_replica(tmp_path, content, store_url, posts, due, "crash-after-post")],
        synchronised=False,
    )
    assert group.join() == [-signal.SIGKILL]
    [first] = read_posts(posts)
    assert first["pid"] == group.processes[0].pid

    store = Store.open(store_url)
    try:
        assert store.reminder_states([key]) == {key: "claimed"}  # the crash came before this
        now = [due + SECOND + LEASE + SECOND]
        survivor = _survivor(content, store, posts, now)
        caplog.set_level("INFO", logger="bot.club.service")
        await survivor.sweep()
        assert read_posts(posts) == [first]
        assert f"event=reminder_found_already_posted key={key} post_id={first['id']}" in caplog.text
        row = reminder_row(store, key)
        assert (row["state"], row["post_id"]) == ("posted", first["id"])
        now[0] += 10 * 60 * SECOND
        await survivor.sweep()
        assert read_posts(posts) == [first]
    finally:
        store.close()
