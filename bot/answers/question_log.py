"""What people asked, in the store: one row per question about the content.

The text is kept only for questions the bot could not answer (editors read them to
add a paraphrase or a fact); answered ones keep only their topic, for `/intra stats`.
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
from bot.schema import UtcDateTime, create_tables, metadata
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
)
Index("questions_asked_by_time", questions_asked.c.asked_at)

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

    def record_many(self, questions: Sequence[AskedQuestion]) -> None:
        """Write questions in one transaction (see `QuestionRecorder`, which batches them)."""
        if not questions:
            return
        with self.store.engine.begin() as connection:
            connection.execute(
                insert(questions_asked),
                [
                    {
                        "asked_at": q.asked_at,
                        "topic_id": q.topic_id,
                        "unit_id": q.unit_id,
                        "score": q.score,
                        "answered": q.answered,
                        "text": q.text,
                    }
                    for q in questions
                ],
            )

    def unanswered(self, since: datetime) -> list[Unanswered]:
        """Unanswered questions since `since`, grouped by folded wording, most frequent first."""
        with self.store.engine.connect() as connection:
            rows = connection.execute(
                select(
                    questions_asked.c.text,
                    questions_asked.c.asked_at,
                    questions_asked.c.unit_id,
                    questions_asked.c.score,
                )
                .where(questions_asked.c.answered.is_(False), questions_asked.c.asked_at >= since)
                .order_by(questions_asked.c.asked_at)
            ).all()
        groups: dict[str, list[tuple[str, datetime, str, float]]] = {}
        for text, asked_at, unit_id, score in rows:
            key = _NOT_WORD.sub(" ", fold(str(text))).strip()
            groups.setdefault(key, []).append((str(text), asked_at, str(unit_id), float(score)))
        found = [
            Unanswered(
                text=items[-1][0],
                count=len(items),
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
                select(questions_asked.c.topic_id, func.count())
                .where(*period, questions_asked.c.answered.is_(True))
                .group_by(questions_asked.c.topic_id)
            ).all()
            unanswered = connection.execute(
                select(func.count()).where(*period, questions_asked.c.answered.is_(False))
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
