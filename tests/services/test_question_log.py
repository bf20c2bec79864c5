"""What the bot could not answer, in the store: recorded, grouped, counted, forgotten."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.answers.answer import respond
from bot.answers.conversation import Conversation
from bot.answers.question_log import AskedQuestion, QuestionLog, questions_asked
from bot.answers.question_recorder import QuestionRecorder
from bot.answers.stats import StatsService
from bot.chat import Message, Reply, User, Visibility
from bot.content.loader import Content, ContentSource
from bot.invitations.records import InvitationRecords
from bot.store import Store

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def log(tmp_path: Path) -> QuestionLog:
    return QuestionLog(Store.open(f"sqlite:///{tmp_path}/q.db"))


def ask(log: QuestionLog, content: Content, text: str, when: dt.datetime = NOW) -> None:
    log.record_many([AskedQuestion.of(text, respond(text, content), when)])


def test_unanswered_questions_are_grouped_and_counted(log: QuestionLog, content: Content) -> None:
    ask(log, content, "Comment renouveler mon passeport ?", NOW - dt.timedelta(days=2))
    ask(log, content, "comment renouveler mon PASSEPORT", NOW - dt.timedelta(days=1))
    ask(log, content, "recette de la tarte aux pommes")
    ask(log, content, "combien coûte la certification ?")  # answered: not listed
    groups = log.unanswered(NOW - dt.timedelta(days=30))
    assert [(g.text, g.count) for g in groups] == [
        ("comment renouveler mon PASSEPORT", 2),
        ("recette de la tarte aux pommes", 1),
    ]
    assert groups[0].last_asked == NOW - dt.timedelta(days=1)
    assert log.unanswered(NOW - dt.timedelta(hours=1))[0].text == "recette de la tarte aux pommes"


def test_answered_questions_keep_no_text_and_no_one_is_identified(
    log: QuestionLog, content: Content
) -> None:
    ask(log, content, "combien coûte la certification ?")
    with log.store.engine.connect() as connection:
        row = connection.execute(select(questions_asked)).one()
    assert row.text == "" and row.topic_id == "certification" and row.answered
    assert "user" not in " ".join(questions_asked.c.keys())


def test_old_questions_are_purged(log: QuestionLog, content: Content) -> None:
    ask(log, content, "zzqq", NOW - dt.timedelta(days=91))
    ask(log, content, "zzqq bis", NOW - dt.timedelta(days=1))
    assert log.purge_before(NOW - dt.timedelta(days=90)) == 1
    assert [g.text for g in log.unanswered(NOW - dt.timedelta(days=365))] == ["zzqq bis"]


async def test_the_conversation_records_questions_not_commands(
    log: QuestionLog, content: Content
) -> None:
    recorder = QuestionRecorder(log, lambda: NOW)
    conversation = Conversation(ContentSource.of(content), recorder)

    async def club_service(_message: Message, _rest: str) -> Reply:
        return Reply("le prochain club")

    conversation.serve_topic("club", club_service)
    user = User(id="u1", username="alice")
    for text in ("aide", "certification", "recette de la tarte aux pommes", "club"):
        await conversation.respond(Message(text=text, user=user, channel_id="c"))
    await recorder.flush()
    figures = log.figures(NOW - dt.timedelta(days=1), NOW + dt.timedelta(seconds=1))
    assert figures.questions == 3 and figures.unanswered == 1
    assert figures.per_topic == (("certification", 1), ("club", 1))


async def test_stats_are_for_referents_only_and_count_the_period(
    log: QuestionLog, content: Content
) -> None:
    ask(log, content, "combien coûte la certification ?", NOW - dt.timedelta(days=3))
    ask(log, content, "qui sont les référents ?", NOW - dt.timedelta(days=2))
    ask(log, content, "dossier certification", NOW - dt.timedelta(days=1))
    ask(log, content, "recette de la tarte aux pommes", NOW - dt.timedelta(days=1))
    ask(log, content, "certification", NOW - dt.timedelta(days=60))  # outside 30 days
    records = InvitationRecords(log.store)
    first = records.create("u1", "alice", "", NOW - dt.timedelta(days=5))
    records.create("u2", "bob", "", NOW - dt.timedelta(days=4))
    assert first is not None
    assert records.begin(first.id, False, "marine.purson", "r1", NOW - dt.timedelta(days=4))
    referents = {"marine.purson"}

    async def is_referent(message: Message) -> bool:
        return message.user.username in referents

    service = StatsService(log, is_referent, lambda: NOW)

    refused = await service.reply(Message("stats", User("u9", "eve"), "c"), "")
    assert refused.text == "Les statistiques sont réservées aux référentes des intras."
    assert refused.visibility is Visibility.ASKER

    reply = await service.reply(Message("stats", User("r1", "marine.purson"), "c"), "")
    text = reply.text.replace("\u202f", " ").replace("\u00a0", " ")
    assert reply.visibility is Visibility.ASKER  # the figures are the referents' only
    assert text.startswith("**Statistiques des 30 derniers jours**"), text
    assert "Questions posées : 4, dont 1 sans réponse sûre" in text
    assert "Par sujet : certification 2 · referents 1" in text
    assert "2 reçues, 0 acceptées, 1 refusées ; 1 en attente" in text
    longer = await service.reply(Message("stats 90", User("r1", "marine.purson"), "c"), "90")
    assert "Questions posées : 5" in longer.text.replace("\u00a0", " ")
    bad = await service.reply(Message("stats x", User("r1", "marine.purson"), "c"), "beaucoup")
    assert "/intra stats 90" in bad.text and bad.visibility is Visibility.ASKER


def test_answered_questions_are_counted_per_minute_and_unanswered_ones_kept_each(
    log: QuestionLog, content: Content
) -> None:
    certification = respond("combien coûte la certification ?", content)
    tart = respond("recette de la tarte aux pommes", content)
    second = dt.timedelta(seconds=1)
    price, tart_text = "combien coûte la certification ?", "recette de la tarte aux pommes"
    batch = [AskedQuestion.of(price, certification, NOW + s * second) for s in (0, 59, 60)]
    batch += [AskedQuestion.of(tart_text, tart, NOW + s * second) for s in (0, 1)]
    log.record_many(batch)
    with log.store.engine.connect() as connection:
        stored = connection.execute(
            select(questions_asked.c.answered, questions_asked.c.times).order_by(
                questions_asked.c.id
            )
        ).all()
    assert sorted((bool(a), int(t)) for a, t in stored) == [(False, 1), (False, 1), (True, 1), (True, 2)]  # fmt: skip
    figures = log.figures(NOW - dt.timedelta(hours=1), NOW + dt.timedelta(hours=1))
    assert figures.questions == 5 and figures.unanswered == 2
    assert figures.per_topic == (("certification", 3),)
    assert [(g.text, g.count) for g in log.unanswered(NOW - dt.timedelta(hours=1))] == [
        ("recette de la tarte aux pommes", 2)
    ]


def test_a_store_from_before_the_counts_is_migrated_and_its_rows_count_one_each(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(
            "CREATE TABLE questions_asked (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "asked_at DATETIME NOT NULL, topic_id VARCHAR(64) NOT NULL, "
            "unit_id VARCHAR(200) NOT NULL, score FLOAT NOT NULL, answered BOOLEAN NOT NULL, "
            "text TEXT NOT NULL)"
        )
        for answered in (1, 1, 0):
            connection.execute(
                "INSERT INTO questions_asked (asked_at, topic_id, unit_id, score, answered, text)"
                " VALUES ('2026-11-20 09:00:00.000000', 'club', 'club/x', 3.0, ?, ?)",
                (answered, "" if answered else "zzqq"),
            )
    url = f"sqlite:///{path}"
    store = Store.open(url)
    try:
        migrated = QuestionLog(store)
        QuestionLog(store)  # a second replica's start: nothing left to add, no error
        figures = migrated.figures(NOW - dt.timedelta(days=1), NOW)
        assert figures.questions == 3 and figures.unanswered == 1
        assert figures.per_topic == (("club", 2),)
    finally:
        store.close()
