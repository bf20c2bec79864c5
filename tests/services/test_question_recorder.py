"""Questions are recorded in batches: a reply never waits for the store, nothing is lost
at shutdown, a store outage is retried, and a full queue drops records with a count."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.answers.answer import respond
from bot.answers.question_log import AskedQuestion, QuestionLog, questions_asked
from bot.answers.question_recorder import QuestionRecorder
from bot.content.loader import Content
from bot.store import Store

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)


class ScriptedLog(QuestionLog):
    """The real log, whose writes can be held (a slow store) or made to fail (an outage)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.open = threading.Event()
        self.open.set()
        self.failing = False
        self.batches: list[int] = []

    def record_many(self, questions: Sequence[AskedQuestion]) -> None:
        self.open.wait(timeout=10)
        if self.failing:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        super().record_many(questions)
        self.batches.append(len(questions))


@pytest.fixture
def log(tmp_path: Path) -> Iterator[ScriptedLog]:
    store = Store.open(f"sqlite:///{tmp_path}/q.db")
    yield ScriptedLog(store)
    store.close()


def rows(log: QuestionLog) -> int:
    """How many questions the store holds (answered ones are counted per minute: `times`)."""
    with log.store.engine.connect() as connection:
        total = connection.execute(select(func.sum(questions_asked.c.times))).scalar()
    return int(total or 0)


async def ask(recorder: QuestionRecorder, content: Content, text: str, times: int = 1) -> None:
    outcome = respond(text, content)
    for _ in range(times):
        recorder(text, outcome)


async def test_a_question_is_queued_not_written_and_the_flush_writes_it(
    log: ScriptedLog, content: Content
) -> None:
    recorder = QuestionRecorder(log, lambda: NOW)
    log.open.clear()  # the store hangs: recording must still return at once
    await asyncio.wait_for(ask(recorder, content, "recette de la tarte aux pommes"), timeout=0.5)
    await asyncio.wait_for(ask(recorder, content, "combien coûte la certification ?"), timeout=0.5)
    assert recorder.pending == 2 and rows(log) == 0
    log.open.set()
    await recorder.flush()
    assert rows(log) == 2 and recorder.pending == 0 and recorder.written == 2
    groups = log.unanswered(NOW - dt.timedelta(days=1))
    assert [g.text for g in groups] == ["recette de la tarte aux pommes"]


async def test_the_runner_writes_every_interval_and_each_full_batch_at_once(
    log: ScriptedLog, content: Content
) -> None:
    stop = asyncio.Event()
    slow = QuestionRecorder(log, lambda: NOW, interval=0.05, batch=1000)
    running = asyncio.create_task(slow.run(stop))
    await ask(slow, content, "certification")
    for _ in range(100):
        if rows(log) == 1:
            break
        await asyncio.sleep(0.02)
    assert rows(log) == 1  # written by the interval, without a flush
    stop.set()
    await asyncio.wait_for(running, timeout=2)

    stop = asyncio.Event()
    batched = QuestionRecorder(log, lambda: NOW, interval=60, batch=3)
    running = asyncio.create_task(batched.run(stop))
    await ask(batched, content, "certification", times=3)
    for _ in range(100):
        if rows(log) == 4:
            break
        await asyncio.sleep(0.02)
    assert rows(log) == 4  # a full batch does not wait for the 60 s interval
    stop.set()
    await asyncio.wait_for(running, timeout=2)  # the stop ends the loop at once


async def test_a_flood_of_answered_questions_is_one_row_a_minute_and_unit(
    log: ScriptedLog, content: Content
) -> None:
    clock = [NOW]
    recorder = QuestionRecorder(log, lambda: clock[0])
    await ask(recorder, content, "certification", times=1200)
    clock[0] = NOW + dt.timedelta(seconds=30)
    await ask(recorder, content, "certification", times=300)  # the same minute
    clock[0] = NOW + dt.timedelta(minutes=1)
    await ask(recorder, content, "certification", times=7)
    assert recorder.pending == 1507
    await recorder.flush()
    assert log.batches == [2] and rows(log) == 1507 and recorder.written == 1507
    with log.store.engine.connect() as connection:
        stored = connection.execute(
            select(questions_asked.c.asked_at, questions_asked.c.times)
        ).all()
    assert sorted((asked_at, times) for asked_at, times in stored) == [
        (NOW, 1500),
        (NOW + dt.timedelta(minutes=1), 7),
    ]


async def test_questions_that_come_during_a_write_wait_for_the_next_one(
    log: ScriptedLog, content: Content
) -> None:
    recorder = QuestionRecorder(log, lambda: NOW)
    await ask(recorder, content, "zzqq alpha", times=2)  # unanswered: a row each
    log.open.clear()
    flushing = asyncio.create_task(recorder.flush())
    await asyncio.sleep(0.05)  # the write of 2 is on its way
    await ask(recorder, content, "zzqq beta", times=3)
    log.open.set()
    await flushing
    assert log.batches == [2] and recorder.pending == 3  # not [2, 3]: no stream of small writes
    await recorder.flush()
    assert log.batches == [2, 3] and rows(log) == 5


async def test_an_outage_keeps_the_records_and_the_next_flush_writes_them(
    log: ScriptedLog, content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = QuestionRecorder(log, lambda: NOW)
    await ask(recorder, content, "certification", times=3)
    log.failing = True
    with caplog.at_level(logging.WARNING, logger="bot.answers.question_recorder"):
        await recorder.flush()
    assert "event=questions_not_recorded pending=3 error=OperationalError" in caplog.text
    assert recorder.pending == 3 and rows(log) == 0 and recorder.dropped == 0
    log.failing = False
    await ask(recorder, content, "zzqq introuvable")
    await recorder.flush()
    assert rows(log) == 4 and recorder.pending == 0
    assert [g.text for g in log.unanswered(NOW - dt.timedelta(days=1))] == ["zzqq introuvable"]


async def test_a_full_queue_drops_new_records_with_a_counted_warning(
    log: ScriptedLog, content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = QuestionRecorder(log, lambda: NOW, capacity=5)
    log.failing = True
    with caplog.at_level(logging.WARNING, logger="bot.answers.question_recorder"):
        await ask(recorder, content, "certification", times=100)  # one count: it always fits
        await asyncio.wait_for(ask(recorder, content, "zzqq alpha", times=7), timeout=0.5)
        await recorder.flush()  # fails: the batch is put back, nothing more fits
    # 1 count + 4 texts fill the 5 places: 3 texts dropped, the answered ones all kept.
    assert recorder.pending == 104 and recorder.dropped == 3
    # The first drop is told at once; the next ones are counted, not logged one by one.
    assert "event=questions_dropped count=1 total=1 capacity=5" in caplog.text
    assert caplog.text.count("event=questions_dropped") == 1
    log.failing = False
    await recorder.flush()
    assert rows(log) == 104


async def test_a_failed_batch_put_back_keeps_the_newest_when_new_ones_came(
    log: ScriptedLog, content: Content
) -> None:
    recorder = QuestionRecorder(log, lambda: NOW, capacity=4)
    await ask(recorder, content, "zzqq alpha")
    await ask(recorder, content, "zzqq beta")
    log.failing = True
    log.open.clear()
    flushing = asyncio.create_task(recorder.flush())
    await asyncio.sleep(0.05)  # the batch is out, on the wire
    await ask(recorder, content, "zzqq gamma", times=3)  # arrives during the failing write
    log.open.set()
    await flushing
    # 3 new + 2 put back > 4: the oldest put back is dropped, the order is kept.
    assert recorder.pending == 4 and recorder.dropped == 1
    log.failing = False
    await recorder.flush()
    texts = [g.text for g in log.unanswered(NOW - dt.timedelta(days=1))]
    assert sorted(texts) == ["zzqq beta", "zzqq gamma"]


async def test_an_unexpected_error_is_logged_and_the_recording_goes_on(
    log: ScriptedLog, content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    broken = {"once": True}
    real = log.record_many

    def record_many(questions: Sequence[AskedQuestion]) -> None:
        if broken.pop("once", False):
            raise RuntimeError("a bug in the write")
        real(questions)

    log.record_many = record_many  # type: ignore[method-assign]
    stop = asyncio.Event()
    recorder = QuestionRecorder(log, lambda: NOW, interval=0.02)
    running = asyncio.create_task(recorder.run(stop))
    with caplog.at_level(logging.ERROR, logger="bot.answers.question_recorder"):
        await ask(recorder, content, "certification")
        for _ in range(100):
            if "event=questions_flush_failed" in caplog.text:
                break
            await asyncio.sleep(0.01)
        await ask(recorder, content, "certification", times=2)
        for _ in range(100):
            if rows(log) == 2:
                break
            await asyncio.sleep(0.01)
    assert "event=questions_flush_failed" in caplog.text
    assert rows(log) == 2 and not running.done()  # the loop survived and wrote the next ones
    stop.set()
    await asyncio.wait_for(running, timeout=2)
