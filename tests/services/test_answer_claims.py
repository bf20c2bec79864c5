"""Answer claims: a question is held with a lease until its reply exists, and a question
whose holder died is taken over after the lease, by one replica only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.answer_claims import MAX_ATTEMPTS
from bot.store import Store

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
AFTER = NOW + LEASE + timedelta(seconds=1)


def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")


def test_the_first_caller_holds_the_question_and_others_wait(tmp_path: Path) -> None:
    s = store(tmp_path)
    claim = s.claim_answer("post:p1", "a", NOW, LEASE, "channel1")
    assert claim is not None and not claim.takeover
    assert s.claim_answer("post:p1", "b", NOW + timedelta(minutes=1), LEASE) is None
    assert s.claim_answer("post:p1", "a", NOW + timedelta(minutes=1), LEASE) is None


def test_a_claim_left_by_a_dead_holder_is_taken_over_after_its_lease(tmp_path: Path) -> None:
    s = store(tmp_path)
    assert s.claim_answer("post:p1", "dead", NOW, LEASE, "channel1") is not None
    assert s.unfinished_answers("post:", NOW + timedelta(minutes=1), NOW - LEASE) == []
    # The lease's last instant still belongs to the holder.
    assert s.unfinished_answers("post:", NOW + LEASE, NOW) == []
    assert s.claim_answer("post:p1", "b", NOW + LEASE, LEASE) is None
    assert [left.key for left in s.unfinished_answers("post:", AFTER, NOW)] == ["post:p1"]
    assert s.unfinished_answers("post:", AFTER, NOW + timedelta(microseconds=1)) == []
    assert s.unfinished_answers("matrix:", AFTER, NOW) == []
    [left] = s.unfinished_answers("post:", AFTER, NOW - LEASE)
    assert (left.key, left.place) == ("post:p1", "channel1")
    taken = s.claim_answer("post:p1", "b", AFTER, LEASE)
    assert taken is not None and taken.takeover
    assert s.claim_answer("post:p1", "c", AFTER, LEASE) is None  # b holds it now
    assert s.unfinished_answers("post:", AFTER, NOW - LEASE) == []


def test_a_done_question_is_never_claimed_again(tmp_path: Path) -> None:
    s = store(tmp_path)
    claim = s.claim_answer("matrix:$e1", "a", NOW, LEASE, "!room")
    assert claim is not None and s.answer_done(claim)
    later = NOW + timedelta(days=1)
    assert s.claim_answer("matrix:$e1", "b", later, LEASE) is None
    assert s.unfinished_answers("matrix:", later, NOW - LEASE) == []


def test_a_holder_whose_claim_was_taken_over_cannot_mark_it_done(tmp_path: Path) -> None:
    s = store(tmp_path)
    slow = s.claim_answer("post:p1", "slow", NOW, LEASE)
    taken = s.claim_answer("post:p1", "b", AFTER, LEASE)
    assert slow is not None and taken is not None
    assert not s.answer_done(slow)
    assert s.answer_done(taken)


def test_a_question_that_keeps_failing_is_given_up(tmp_path: Path) -> None:
    s = store(tmp_path)
    moment = NOW
    assert s.claim_answer("post:p1", "o0", moment, LEASE) is not None
    for attempt in range(1, MAX_ATTEMPTS):
        moment += LEASE + timedelta(seconds=1)
        assert s.claim_answer("post:p1", f"o{attempt}", moment, LEASE) is not None
    moment += LEASE + timedelta(seconds=1)
    assert s.claim_answer("post:p1", "last", moment, LEASE) is None
    assert s.unfinished_answers("post:", moment, NOW) == []


def test_events_claimed_for_good_are_done(tmp_path: Path) -> None:
    s = store(tmp_path)
    assert s.claim_event("matrix:$reaction")
    assert s.claim_answer("matrix:$reaction", "a", AFTER, LEASE) is None
    assert s.unfinished_answers("matrix:", AFTER + timedelta(days=1), NOW - LEASE) == []


def test_rows_of_a_store_made_before_leases_count_as_answered(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    old = create_engine(f"sqlite:///{path}")
    with old.begin() as connection:
        connection.execute(
            text("CREATE TABLE handled_events (key VARCHAR(200) PRIMARY KEY, handled_at DATETIME)")
        )
        connection.execute(
            text("INSERT INTO handled_events VALUES ('post:old', '2026-12-07 09:00:00.000000')")
        )
    old.dispose()
    s = Store.open(f"sqlite:///{path}")
    assert s.claim_answer("post:old", "a", AFTER, LEASE) is None
    assert s.unfinished_answers("post:", AFTER, NOW - timedelta(days=1)) == []
    assert s.claim_answer("post:new", "a", NOW, LEASE) is not None
    assert s.forget_events_before(NOW, "post:") == 1  # retention still forgets the old row


def test_retention_forgets_unfinished_claims_too(tmp_path: Path) -> None:
    s = store(tmp_path)
    assert s.claim_answer("post:p1", "dead", NOW, LEASE) is not None
    assert s.forget_events_before(NOW + timedelta(days=31), "post:") == 1


def test_two_replicas_taking_over_at_once_let_one_win(tmp_path: Path) -> None:
    first = store(tmp_path)
    assert first.claim_answer("post:p1", "dead", NOW, LEASE) is not None
    replicas = [store(tmp_path) for _ in range(6)]
    barrier = threading.Barrier(len(replicas))
    wins: list[bool] = []

    def take(n: int) -> None:
        barrier.wait()
        wins.append(replicas[n].claim_answer("post:p1", f"r{n}", AFTER, LEASE) is not None)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(len(replicas))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1
