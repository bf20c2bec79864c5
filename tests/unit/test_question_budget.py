"""Each person's share of the bot: a burst, then a steady pace; past it, one « ralentissez »
and silence until the share is whole again; other people are never touched."""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answers.budget import QuestionBudget, Verdict, slow_down
from bot.answers.conversation import Conversation
from bot.chat import Message, Reply, User, Visibility
from bot.content.loader import ContentSource

ANSWER, SLOW_DOWN, SILENT = Verdict.ANSWER, Verdict.SLOW_DOWN, Verdict.SILENT


def test_a_burst_is_answered_then_one_slow_down_then_silence() -> None:
    budget = QuestionBudget(per_minute=6, burst=6)
    verdicts = [budget.take("alice", now=0.0) for _ in range(10)]
    assert verdicts == [ANSWER] * 6 + [SLOW_DOWN] + [SILENT] * 3


def test_silence_lasts_until_the_share_is_whole_again() -> None:
    budget = QuestionBudget(per_minute=6, burst=6)
    for _ in range(7):
        budget.take("alice", now=0.0)
    # One question's worth is back after 10 s, but the person was told « a minute ».
    assert budget.take("alice", now=10.0) is SILENT
    assert budget.take("alice", now=59.0) is SILENT
    assert budget.take("alice", now=60.0) is ANSWER
    # And the whole burst is theirs again, the next slow-down told again.
    assert [budget.take("alice", now=60.0) for _ in range(6)] == [ANSWER] * 5 + [SLOW_DOWN]


def test_questions_at_the_pace_are_all_answered() -> None:
    budget = QuestionBudget(per_minute=6, burst=6)
    assert all(budget.take("alice", now=10.0 * n) is ANSWER for n in range(100))


def test_a_question_past_the_pace_is_held_back() -> None:
    budget = QuestionBudget(per_minute=6, burst=1)
    assert budget.take("alice", now=0.0) is ANSWER
    assert budget.take("alice", now=9.9) is SLOW_DOWN


def test_one_person_flooding_leaves_the_others_their_share() -> None:
    budget = QuestionBudget(per_minute=6, burst=6)
    for _ in range(100):
        budget.take("flooder", now=0.0)
    assert [budget.take("bob", now=0.0) for _ in range(6)] == [ANSWER] * 6


def test_forgetting_people_keeps_the_busy_ones() -> None:
    budget = QuestionBudget(per_minute=6, burst=2, max_people=3)
    for _ in range(3):
        budget.take("flooder", now=0.0)  # told, silent
    budget.take("a", now=100.0)
    budget.take("b", now=100.0)
    budget.take("c", now=100.0)  # the flooder's share is whole again: forgotten first
    assert budget.take("a", now=100.0) is ANSWER
    assert budget.take("a", now=100.0) is SLOW_DOWN  # "a" was kept, its share spent


def test_a_budget_needs_a_pace_and_a_burst() -> None:
    with pytest.raises(ValueError):
        QuestionBudget(per_minute=0, burst=1)
    with pytest.raises(ValueError):
        QuestionBudget(per_minute=1, burst=0)


def test_the_slow_down_says_when_and_is_for_the_asker() -> None:
    reply = slow_down(QuestionBudget(per_minute=6, burst=6).refill_seconds())
    assert reply.text.startswith("Doucement 🙂")
    assert "dans une minute" in reply.text
    assert reply.visibility is Visibility.EVERYONE  # where it was asked: one post
    assert (
        "dans 3 minutes" in slow_down(QuestionBudget(per_minute=2, burst=6).refill_seconds()).text
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.floats(min_value=0, max_value=30)), max_size=200),
    st.integers(min_value=1, max_value=8),
    st.floats(min_value=0.5, max_value=60),
)
def test_no_one_gets_more_than_their_share_nor_two_slow_downs_in_a_row(
    questions: list[tuple[str, float]], burst: int, per_minute: float
) -> None:
    budget = QuestionBudget(per_minute=per_minute, burst=burst)
    now = 0.0
    answered: dict[str, int] = {}
    last: dict[str, Verdict] = {}
    for person, gap in questions:
        now += gap
        verdict = budget.take(person, now)
        if verdict is ANSWER:
            answered[person] = answered.get(person, 0) + 1
        # Told once; the next verdict is silence or, the share whole again, an answer.
        assert not (verdict is SLOW_DOWN and last.get(person) in (SLOW_DOWN, SILENT))
        last[person] = verdict
    for count in answered.values():
        assert count <= burst + now * per_minute / 60 + 1e-6


def _message(user: str, text: str = "aide", platform: str = "matrix") -> Message:
    return Message(text=text, user=User(id=user, username=user), channel_id="c", platform=platform)


def test_a_conversation_answers_posts_within_the_share_only() -> None:
    now = [0.0]
    conversation = Conversation(ContentSource(), budget=QuestionBudget(6, 2), clock=lambda: now[0])

    async def flood() -> list[str | None]:
        replies = [await conversation.answer_post(_message("alice")) for _ in range(5)]
        return [r.text[:9] if r else None for r in replies]

    first = asyncio.run(flood())
    assert first[2] == "Doucement"
    assert first[3:] == [None, None]
    assert None not in first[:2] and "Doucement" not in first[:2]
    # Another person, and the same id on another platform, are counted apart.
    assert asyncio.run(conversation.answer_post(_message("bob"))) is not None
    other = asyncio.run(conversation.answer_post(_message("alice", platform="mattermost")))
    assert other is not None and not other.text.startswith("Doucement")


def test_a_slash_command_past_the_share_is_told_each_time() -> None:
    conversation = Conversation(ContentSource(), budget=QuestionBudget(6, 1), clock=lambda: 0.0)

    async def commands() -> list[Reply]:
        return [await conversation.answer_command(_message("alice")) for _ in range(3)]

    replies = asyncio.run(commands())
    assert not replies[0].text.startswith("Doucement")
    assert all(reply.text.startswith("Doucement") for reply in replies[1:])
    assert all(reply.visibility is Visibility.ASKER for reply in replies[1:])  # ephemeral


def test_without_a_budget_everyone_is_answered() -> None:
    conversation = Conversation(ContentSource())

    async def many() -> list[object]:
        return [await conversation.answer_post(_message("alice")) for _ in range(50)]

    assert None not in asyncio.run(many())


def test_the_log_says_once_whose_share_is_spent_and_never_the_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    conversation = Conversation(ContentSource(), budget=QuestionBudget(6, 1), clock=lambda: 0.0)

    async def three() -> None:
        for _ in range(3):  # answered, told, silent
            await conversation.answer_post(_message("alice", text="secret question"))
        await conversation.answer_post(_message("bob", platform=""))

    with caplog.at_level(logging.INFO, logger="bot.answers.conversation"):
        asyncio.run(three())
    spent = [r.getMessage() for r in caplog.records if "question_budget_spent" in r.getMessage()]
    assert spent == ["event=question_budget_spent platform=matrix user_id=alice"]
    assert "secret question" not in caplog.text
    conversation.budget = QuestionBudget(6, 1)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.answers.conversation"):
        asyncio.run(conversation.answer_post(_message("carol", platform="")))
        asyncio.run(conversation.answer_post(_message("carol", platform="")))
    assert [r.getMessage() for r in caplog.records] == [
        "event=question_budget_spent platform=- user_id=carol"
    ]
