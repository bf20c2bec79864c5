"""Every development set keeps its floor and answers every out-of-scope question honestly;
the held-out set never falls below its floor: CI fails when answers get worse."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.loader import Content
from tests.eval.runner import (
    DEVELOPMENT_FLOORS,
    HELDOUT_FLOOR,
    HELDOUT_SET,
    HONEST_FLOORS,
    evaluate,
    report,
    score,
    summary,
)


@pytest.mark.parametrize("path", list(DEVELOPMENT_FLOORS), ids=lambda path: path.name)
def test_each_development_set_keeps_its_floor(path: Path, content: Content) -> None:
    outcomes = evaluate(content, path)
    assert score(outcomes) >= DEVELOPMENT_FLOORS[path], report(outcomes)


@pytest.mark.parametrize("path", list(DEVELOPMENT_FLOORS), ids=lambda path: path.name)
def test_out_of_scope_questions_get_the_honest_answer(path: Path, content: Content) -> None:
    outcomes = [o for o in evaluate(content, path) if o.out_of_scope]
    assert outcomes and score(outcomes) >= HONEST_FLOORS.get(path, 1.0), report(outcomes)


def test_the_held_out_set_never_scores_below_its_floor(content: Content) -> None:
    # Only the summary on failure: the held-out questions are read to measure, not to tune.
    outcomes = evaluate(content, HELDOUT_SET)
    assert score(outcomes) >= HELDOUT_FLOOR, summary(outcomes)
