"""What people asked, in the store: the questions about the content and how they went.

The text is kept only for questions the bot could not answer (editors read them to
add a paraphrase or a fact), one row each; answered ones keep only their topic, for
`/intra stats`, counted per minute (`times`): a busy hour is a few rows, not thousands.
No user id is ever stored. Rows older than the retention period are deleted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)

from bot.answers.answer import Answer
from bot.schema import UtcDateTime, add_missing_columns, create_tables, metadata
from bot.store import Store
from bot.text import fold

MAX_STORED_CHARS = 500

questions_asked = Table(
    "questions_asked",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asked_at", UtcDateTime(), nullable=False),
    Column("topic_id", String(64), nullable=False, default=""),
    Column("unit_id", String(200), nullable=False, default=""),
    Column("score", Float, nullable=False, default=0.0),
    Column("answered", Boolean, nullable=False),
    Column("text", Text, nullable=False, default=""),  # only when not answered
    Column("times", Integer, nullable=False, default=1),  # answered alike within the minute
)
Index("questions_asked_by_time", questions_asked.c.asked_at)
# A store made before `times` existed: each of its rows is one question.
_ADDED = {"times": "INTEGER NOT NULL DEFAULT 1"}

_NOT_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class AskedQuestion:
    """One row to write: what was asked, how it went, and the text only when unanswered."""

    asked_at: datetime
    answered: bool
    topic_id: str
    unit_id: str
    score: float
    text: str
    times: int = 1  # answered alike within the minute

    @classmethod
    def of(cls, text: str, outcome: Answer, asked_at: datetime) -> AskedQuestion:
        return cls(
            asked_at=asked_at,
            answered=outcome.answered,
            topic_id=outcome.topic_id,
            unit_id=outcome.unit_id,
            score=round(outcome.score, 3),
            text="" if outcome.answered else " ".join(text.split())[:MAX_STORED_CHARS],
        )


@dataclass(frozen=True)
class Unanswered:
    """Questions that read the same once folded, with how often and when they came."""

    text: str  # the most recent wording
    count: int
    last_asked: datetime
    best_unit: str
    best_score: float


@dataclass(frozen=True)
class Figures:
    questions: int
    unanswered: int
    per_topic: tuple[tuple[str, int], ...]  # most asked first


class QuestionLog:
    def __init__(self, store: Store) -> None:
        self.store = store
        create_tables(store.engine, [questions_asked])
        add_missing_columns(store.engine, "questions_asked", _ADDED)

    def record_many(self, questions: Sequence[AskedQuestion]) -> None:
        """Write questions in one transaction (see `QuestionRecorder`, which batches them)."""
        rows = compacted(questions)
        if not rows:
            return
        with self.store.engine.begin() as connection:
            connection.execute(insert(questions_asked), rows)

    def unanswered(self, since: datetime) -> list[Unanswered]:
        """Unanswered questions since `since`, grouped by folded wording, most frequent first."""
        with self.store.engine.connect() as connection:
            rows = connection.execute(
                select(
                    questions_asked.c.text,
                    questions_asked.c.asked_at,
                    questions_asked.c.unit_id,
                    questions_asked.c.score,
                    questions_asked.c.times,
                )
                .where(questions_asked.c.answered.is_(False), questions_asked.c.asked_at >= since)
                .order_by(questions_asked.c.asked_at)
            ).all()
        groups: dict[str, list[tuple[str, datetime, str, float, int]]] = {}
        for text, asked_at, unit_id, score, times in rows:
            key = _NOT_WORD.sub(" ", fold(str(text))).strip()
            item = (str(text), asked_at, str(unit_id), float(score), int(times))
            groups.setdefault(key, []).append(item)
        found = [
            Unanswered(
                text=items[-1][0],
                count=sum(item[4] for item in items),
                last_asked=items[-1][1],
                best_unit=max(items, key=lambda item: item[3])[2],
                best_score=max(item[3] for item in items),
            )
            for items in groups.values()
        ]
        return sorted(found, key=lambda u: (-u.count, -u.last_asked.timestamp()))

    def figures(self, since: datetime, until: datetime) -> Figures:
        period = (questions_asked.c.asked_at >= since, questions_asked.c.asked_at < until)
        with self.store.engine.connect() as connection:
            per_topic = connection.execute(
                select(questions_asked.c.topic_id, func.sum(questions_asked.c.times))
                .where(*period, questions_asked.c.answered.is_(True))
                .group_by(questions_asked.c.topic_id)
            ).all()
            unanswered = connection.execute(
                select(func.coalesce(func.sum(questions_asked.c.times), 0)).where(
                    *period, questions_asked.c.answered.is_(False)
                )
            ).scalar_one()
        topics: Sequence[tuple[str, int]] = sorted(
            ((str(topic), int(count)) for topic, count in per_topic), key=lambda t: (-t[1], t[0])
        )
        answered = sum(count for _, count in topics)
        return Figures(answered + int(unanswered), int(unanswered), tuple(topics))

    def purge_before(self, cutoff: datetime) -> int:
        with self.store.engine.begin() as connection:
            result = connection.execute(
                delete(questions_asked).where(questions_asked.c.asked_at < cutoff)
            )
        return int(result.rowcount or 0)


def compacted(questions: Sequence[AskedQuestion]) -> list[dict[str, object]]:
    """The rows to insert: each unanswered question on its own (its text is read), the
    answered ones merged per minute, topic, unit and score, with how many they were."""
    answered: dict[tuple[datetime, str, str, float], int] = {}
    rows: list[dict[str, object]] = []
    for q in questions:
        if q.answered:
            key = (q.asked_at.replace(second=0, microsecond=0), q.topic_id, q.unit_id, q.score)
            answered[key] = answered.get(key, 0) + q.times
        else:
            rows.append(_row(q.asked_at, False, q.topic_id, q.unit_id, q.score, q.text, q.times))
    for (minute, topic_id, unit_id, score), times in answered.items():
        rows.append(_row(minute, True, topic_id, unit_id, score, "", times))
    return rows


def _row(
    asked_at: datetime,
    answered: bool,
    topic_id: str,
    unit_id: str,
    score: float,
    text: str,
    times: int,
) -> dict[str, object]:
    return {
        "asked_at": asked_at,
        "answered": answered,
        "topic_id": topic_id,
        "unit_id": unit_id,
        "score": score,
        "text": text,
        "times": times,
    }
