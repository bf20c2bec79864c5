"""Replies to short questions stay about one screen long (issue 12, item 3): every topic's
overview, and the reply to every short question of the evaluation set."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answers.render import SHORT_REPLY_CHARS
from bot.answers.replies import overview
from bot.content.loader import Content, load_content
from bot.content.units import section_id
from tests.eval.runner import evaluate

SHORT_QUESTION_WORDS = 8


@pytest.mark.parametrize("topic_id", sorted(load_content().topics))
def test_every_overview_is_short_and_keeps_every_sub_command(
    topic_id: str, content: Content
) -> None:
    text = overview(content, topic_id)
    assert len(text) <= SHORT_REPLY_CHARS == 1200, (topic_id, len(text))
    topic = content.topics[topic_id]
    for section in topic.sections:
        assert f"`/intra {topic_id} {section_id(section)}`" in text, section.title


def test_every_short_question_of_the_evaluation_set_gets_a_short_reply(content: Content) -> None:
    outcomes = [o for o in evaluate(content) if len(o.question.split()) <= SHORT_QUESTION_WORDS]
    assert len(outcomes) >= 80  # most of the set: the test would not be vacuous
    long = [(len(o.reply), o.question) for o in outcomes if len(o.reply) > SHORT_REPLY_CHARS]
    assert not long, long


def test_an_overview_that_grows_leaves_out_links_and_descriptions_first(
    content_copy: Path,
) -> None:
    """Editors add resources: the overview sheds descriptions and links, never a resource."""
    path = content_copy / "ressources.yaml"
    text = path.read_text(encoding="utf-8")
    extra = "".join(
        f'  - title: "Guide numéro {n}"\n'
        f"    url: https://doc.example.gouv.fr/guide-{n}\n"
        f"    kind: guide\n"
        f'    description: "une description assez longue pour peser dans la réponse {n}"\n'
        for n in range(3)
    )
    assert "\nresources:\n" in text
    path.write_text(text.replace("\nresources:\n", "\nresources:\n" + extra, 1), encoding="utf-8")
    content = load_content(content_copy)
    shown = overview(content, "ressources")
    assert len(shown) <= SHORT_REPLY_CHARS
    for resource in content.resources.resources:
        assert f"« {resource.title} »" in flat(shown), resource.title
    assert "une description assez longue" not in shown
    assert "`/intra ressources <mot>`" in shown  # where the links went


def test_the_real_resources_overview_keeps_its_links(content: Content) -> None:
    shown = overview(content, "ressources")
    for resource in content.resources.resources:
        assert f"]({resource.url})" in shown, resource.title


def flat(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")
