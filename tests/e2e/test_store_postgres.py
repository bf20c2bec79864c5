"""The store on a real PostgreSQL (the replicas' store): the same one-winner guarantees."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest

from bot.invitations.records import InvitationRecords
from bot.store import Store
from tests.mattermost_server import MattermostServer

pytestmark = pytest.mark.e2e

NOW = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(mattermost: MattermostServer) -> Store:
    assert mattermost.pg_dsn, "scripts/mattermost.sh env gave no INTRA_BOT_TEST_PG_DSN"
    opened = Store.open(mattermost.pg_dsn)
    assert opened.engine.dialect.name == "postgresql"
    return opened


def race(count: int, work: object) -> list[object]:
    barrier = threading.Barrier(count)
    results: list[object] = []

    def run(n: int) -> None:
        barrier.wait()
        results.append(work(n))  # type: ignore[operator]

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_one_decision_wins_on_postgres(store: Store) -> None:
    records = InvitationRecords(store)
    for _ in range(10):
        invitation = records.create(f"pg-{uuid.uuid4().hex}", "camille", "", NOW)
        assert invitation is not None
        wins = race(
            6, lambda n, i=invitation.id: records.begin(i, n % 2 == 0, f"r{n}", f"id{n}", NOW)
        )
        assert wins.count(True) == 1


def test_one_open_request_per_person_on_postgres(store: Store) -> None:
    records = InvitationRecords(store)
    requester = f"pg-{uuid.uuid4().hex}"
    created = race(6, lambda n: records.create(requester, "camille", "", NOW))
    assert sum(item is not None for item in created) == 1


def test_an_event_is_claimed_once_on_postgres(store: Store) -> None:
    key = f"post:{uuid.uuid4().hex}"
    assert race(6, lambda n: store.claim_event(key)).count(True) == 1


def test_a_question_left_by_a_dead_holder_is_taken_over_once_on_postgres(store: Store) -> None:
    key = f"post:{uuid.uuid4().hex}"
    lease = dt.timedelta(minutes=2)
    assert store.claim_answer(key, "dead", NOW, lease, "channel") is not None
    assert store.claim_answer(key, "early", NOW + dt.timedelta(minutes=1), lease) is None
    after = NOW + lease + dt.timedelta(seconds=1)
    assert key in [left.key for left in store.unfinished_answers("post:", after, NOW)]
    claims = race(6, lambda n: store.claim_answer(key, f"r{n}", after, lease))
    [winner] = [claim for claim in claims if claim is not None]
    assert winner.takeover and store.answer_done(winner)  # type: ignore[union-attr]
    assert store.claim_answer(key, "late", after + lease * 10, lease) is None
    assert key not in [
        left.key for left in store.unfinished_answers("post:", after + lease * 10, NOW)
    ]
