"""The reply's shape: the fact first, whole, sourced; two « Voir aussi » at most; honest
below the threshold."""

from __future__ import annotations

import re

import pytest

from bot.answers.answer import respond
from bot.content.loader import Content


def flat(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_the_best_unit_comes_first_whole_with_its_source(content: Content) -> None:
    reply = flat(respond("combien de temps dure l'oral de certification ?", content).reply.text)
    first = reply.split("\n\n")[0]
    assert first.startswith("**L'oral d'évaluation**")
    assert "1 h à 1 h 30" in first
    assert "_Source : https://" in first
    assert reply.rstrip().endswith("Plus : `/intra certification`")


def test_at_most_two_see_also_lines(content: Content) -> None:
    for question in ("oral", "dossier certification", "coach", "club", "clinique", "budget"):
        reply = flat(respond(question, content).reply.text)
        if "**Voir aussi** :" in reply:
            block = reply.split("**Voir aussi** :")[1].split("\n\n")[0]
            assert 1 <= len(re.findall(r"^- ", block, flags=re.MULTILINE)) <= 2, question


@pytest.mark.parametrize(
    "question",
    ["salaire intrapreneur", "c'est combien la certif ?", "email magali", "duree oral certif"],
)
def test_short_questions_get_short_replies(question: str, content: Content) -> None:
    assert len(respond(question, content).reply.text) <= 1200


def test_a_bare_topic_is_a_short_overview_with_subcommands(content: Content) -> None:
    reply = respond("certification", content).reply.text
    assert "`/intra certification oral`" in reply
    assert "Pitch" not in reply
    assert len(reply) <= 1400


def test_topic_then_section_gives_the_section(content: Content) -> None:
    reply = flat(respond("/intra certification oral", content).reply.text)
    assert reply.startswith("**L'oral d'évaluation**")


@pytest.mark.parametrize(
    "question",
    ["comment renouveler mon passeport ?", "recette de la tarte aux pommes", "zzqq"],
)
def test_out_of_scope_gets_the_honest_answer_naming_who_can_help(
    question: str, content: Content
) -> None:
    outcome = respond(question, content)
    reply = flat(outcome.reply.text)
    assert not outcome.answered
    assert reply.startswith("Je n'ai pas de réponse sûre")
    # Not about the certification: the referents, not the certification's contact.
    for person in content.referents.referents:
        assert person.email in reply
    assert "contact@beta.gouv.fr" not in reply
    assert "aux intras dans ~domaine-intrapreneurs" in reply
    assert "`/intra " in reply  # the nearest topics, or all of them


def test_the_honest_answer_offers_the_topics_the_question_names(content: Content) -> None:
    reply = flat(respond("la certification et le zzqq du wwxx en yyvv", content).reply.text)
    assert "Sujets proches : `/intra certification`" in reply


def test_the_honest_answer_to_a_question_tied_to_nothing_lists_every_topic(
    content: Content,
) -> None:
    # « poser », « ministère » match a unit or two by chance: no topic is near for that.
    reply = flat(respond("comment poser mes congés annuels dans mon ministère", content).reply.text)
    assert "Sujets proches" not in reply
    assert "Les sujets que je connais : `/intra role`" in reply


def test_an_answer_says_what_it_was_about(content: Content) -> None:
    outcome = respond("combien coûte la certification ?", content)
    assert outcome.answered and outcome.question
    assert outcome.topic_id == "certification"
    assert outcome.unit_id == "certification/cout"
    assert not respond("aide", content).question


def test_a_long_paste_is_read_up_to_the_cap_and_the_reply_says_so(content: Content) -> None:
    question = "combien de temps dure l'oral de certification ? " + "bla " * 5000
    reply = flat(respond(question, content).reply.text)
    assert reply.startswith("_Votre message est long : je n'en ai lu que les 400 premiers")
    assert "1 h à 1 h 30" in reply


def test_a_topic_with_a_question_it_cannot_answer_falls_back_to_its_overview(
    content: Content,
) -> None:
    outcome = respond("certification zzqq wxwx", content)
    assert outcome.reply.text.startswith("### La certification")
    assert not outcome.answered  # recorded for the editors, though the overview is shown
    assert outcome.topic_id == "certification"
