"""The evaluation set (tests/eval/questions.yaml) is well formed and its facts exist.

The runner that scores the bot lives elsewhere; this test keeps the set itself honest: the
format its header documents, the size the issue asks for, and every expected fact present in
the content of the topic it names — so editing a fact out of the content, or mistyping one in
the set, fails here instead of silently lowering the score.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content.loader import Content
from bot.text import fold

EVAL_SET = Path(__file__).resolve().parents[1] / "eval" / "questions.yaml"
IN_SCOPE_MINIMUM = 90
OUT_OF_SCOPE_MINIMUM = 12
PER_TOPIC_MINIMUM = 5
# Search metadata, never shown as an answer: a fact found only there would not be a fact.
NOT_ANSWER_TEXT = frozenset({"aliases", "keywords", "questions", "synonyms"})
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """What the header promises: case-insensitive, accent-exact, any run of spaces is one."""
    return _SPACES.sub(" ", text).casefold()


def alternatives(element: str | list[str]) -> list[str]:
    return [element] if isinstance(element, str) else element


def answer_text(value: Any) -> str:
    """Every string a topic can show, from its validated model."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(answer_text(v) for k, v in value.items() if k not in NOT_ANSWER_TEXT)
    if isinstance(value, list | tuple):
        return "\n".join(answer_text(v) for v in value)
    return ""


@pytest.fixture(scope="module")
def eval_set() -> dict[str, Any]:
    loaded = yaml.safe_load(EVAL_SET.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def entries(eval_set: dict[str, Any]) -> list[dict[str, Any]]:
    questions = eval_set["questions"]
    assert isinstance(questions, list)
    return questions


def in_scope(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in entries if not entry.get("out_of_scope")]


def test_file_keys_and_window(eval_set: dict[str, Any]) -> None:
    assert set(eval_set) == {"within", "questions"}
    assert eval_set["within"] == 600


def test_each_entry_has_the_documented_shape(entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        assert isinstance(entry.get("q"), str) and entry["q"].strip(), entry
        if entry.get("out_of_scope"):
            assert entry["out_of_scope"] is True, entry
            assert set(entry) <= {"q", "out_of_scope", "note"}, entry
            continue
        assert set(entry) <= {"q", "topic", "expect", "note"}, entry
        expect = entry.get("expect")
        assert isinstance(expect, list) and expect, entry
        for element in expect:
            options = alternatives(element)
            assert options and all(isinstance(o, str) and o.strip() for o in options), entry


def test_the_set_is_as_large_as_the_issue_asks(entries: list[dict[str, Any]]) -> None:
    assert len(in_scope(entries)) >= IN_SCOPE_MINIMUM
    assert len(entries) - len(in_scope(entries)) >= OUT_OF_SCOPE_MINIMUM


def test_no_question_is_asked_twice(entries: list[dict[str, Any]]) -> None:
    counts = Counter(fold(entry["q"]) for entry in entries)
    assert [q for q, n in counts.items() if n > 1] == []


def test_every_topic_is_covered(entries: list[dict[str, Any]], content: Content) -> None:
    topics = Counter(entry["topic"] for entry in in_scope(entries))
    assert set(topics) == set(content.topics), "a topic id in the set is unknown, or one is missing"
    thin = {topic: n for topic, n in topics.items() if n < PER_TOPIC_MINIMUM}
    assert thin == {}


def test_every_expected_fact_is_in_its_topic(
    entries: list[dict[str, Any]], content: Content
) -> None:
    shown = {
        topic_id: normalise(answer_text(topic.model_dump()))
        for topic_id, topic in content.topics.items()
    }
    missing = [
        (entry["topic"], element)
        for entry in in_scope(entries)
        for element in entry["expect"]
        if not any(normalise(option) in shown[entry["topic"]] for option in alternatives(element))
    ]
    assert missing == []


def test_the_fact_check_would_catch_a_missing_fact(content: Content) -> None:
    # Guard against a check that always passes: a fact the content does not hold is not found.
    text = normalise(answer_text(content.topics["certification"].model_dump()))
    assert normalise("coach certificateur") in text
    assert normalise("un jury de trois personnes") not in text
    assert "Pitch" not in normalise(answer_text({"keywords": ["Pitch"]}))
