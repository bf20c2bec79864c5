"""The outbox shared by replicas, on SQLite and on the real PostgreSQL: every queued message
performed exactly once when several workers race for them, and queued only by the winner
of the state change it follows."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from bot.invitations.records import InvitationRecords, invitations
from bot.outbox.store import DONE, Effect, Job, OutboxStore, outbox
from bot.outbox.worker import OutboxWorker
from bot.store import Store

NOW = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)
KIND = "test.replicas"  # no real handler anywhere: a leftover row can never message anyone


@pytest.fixture
def shared(store_url: str, prefix: str) -> Iterator[str]:
    yield store_url
    store = Store.open(store_url)
    try:
        with store.engine.begin() as connection:
            connection.execute(delete(outbox).where(outbox.c.key.startswith(prefix)))
            connection.execute(
                delete(invitations).where(invitations.c.requester_id.startswith(prefix))
            )
    finally:
        store.close()


def test_racing_workers_perform_each_message_once(shared: str, prefix: str) -> None:
    keys = [f"{prefix}:{n}" for n in range(30)]
    OutboxStore(Store.open(shared))
    first = OutboxStore(Store.open(shared))
    for key in keys:
        first.add(Effect(key, KIND, {"n": key}), NOW)
    performed: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def replica(n: int) -> None:
        worker = OutboxWorker(OutboxStore(Store.open(shared)), f"replica{n}", clock=lambda: NOW)

        async def handler(job: Job) -> None:
            with lock:
                performed.append(job.key)

        worker.register(KIND, handler)
        barrier.wait()
        asyncio.run(worker.deliver(keys))

    threads = [threading.Thread(target=replica, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(performed) == sorted(keys)
    assert set(first.states(prefix).values()) == {DONE}


def test_a_request_created_twice_queues_its_notices_once(shared: str, prefix: str) -> None:
    records = InvitationRecords(Store.open(shared))
    barrier = threading.Barrier(4)
    created: list[object] = []

    def effects(new_id: str) -> list[Effect]:
        return [Effect(f"{prefix}:{new_id}:notice", KIND, {"id": new_id})]

    def request() -> None:
        barrier.wait()
        created.append(records.create(f"{prefix}-user", "camille", "", NOW, effects))

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [item for item in created if item is not None]
    assert len(winners) == 1
    assert list(OutboxStore(Store.open(shared)).states(prefix)) == [
        f"{prefix}:{winners[0].id}:notice"  # type: ignore[attr-defined]
    ]


def test_only_the_winning_decision_queues_its_messages(shared: str, prefix: str) -> None:
    records = InvitationRecords(Store.open(shared))
    invitation = records.create(f"{prefix}-decide", "camille", "", NOW)
    assert invitation is not None
    barrier = threading.Barrier(4)
    wins: list[bool] = []

    def decline(n: int) -> None:
        barrier.wait()
        effect = Effect(f"{prefix}:tell:{n}", KIND, {})
        wins.append(
            records.begin(invitation.id, False, f"ref{n}", f"id{n}", NOW, "", effects=[effect])
        )

    threads = [threading.Thread(target=decline, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1
    assert len(OutboxStore(Store.open(shared)).states(prefix)) == 1
