"""The development set scores at least 90 %, the held-out set never less than its floor:
CI fails when answers get worse."""

from __future__ import annotations

from bot.content.loader import Content
from tests.eval.runner import (
    HELDOUT_FLOOR,
    HELDOUT_SET,
    PASS_MARK,
    evaluate,
    report,
    score,
    summary,
)


def test_the_bot_answers_the_evaluation_set(content: Content) -> None:
    outcomes = evaluate(content)
    assert score(outcomes) >= PASS_MARK, report(outcomes)


def test_every_out_of_scope_question_gets_the_honest_answer(content: Content) -> None:
    outcomes = [o for o in evaluate(content) if o.out_of_scope]
    assert outcomes and all(o.passed for o in outcomes), report(outcomes)


def test_the_held_out_set_never_scores_below_its_floor(content: Content) -> None:
    # Only the summary on failure: the held-out questions are read to measure, not to tune.
    outcomes = evaluate(content, HELDOUT_SET)
    assert score(outcomes) >= HELDOUT_FLOOR, summary(outcomes)
