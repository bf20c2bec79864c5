"""Two questions asked at once get both answers, in the order asked."""

from __future__ import annotations

import pytest

from bot.answers.answer import answer, respond
from bot.answers.two_questions import halves
from bot.content.loader import Content


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "La certif coûte combien, et elle est reconnue officiellement ?",
            ("La certif coûte combien", "elle est reconnue officiellement ?"),
        ),
        (
            "Benjamin est encore référent ? et sinon qui s'occupe des intras ?",
            ("Benjamin est encore référent ?", "sinon qui s'occupe des intras ?"),
        ),
        (
            "Combien de temps dure l'investigation et qui la finance ?",
            ("Combien de temps dure l'investigation", "qui la finance ?"),
        ),
    ],
)
def test_a_message_is_cut_where_its_second_question_starts(
    text: str, expected: tuple[str, str]
) -> None:
    assert halves(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Context, then one question: the context asks nothing.
        "Je suis intra à Nantes et j'ai lu qu'il y avait des référents. Qui sont-ils ?",
        "Est-ce que je peux passer la certification ? je suis arrivée il y a un mois",
        "Les référents et les canaux des intras",  # « et » between two nouns
        "Qui sont les référents ?",
    ],
)
def test_one_question_with_its_context_is_not_cut(text: str) -> None:
    assert halves(text) is None


def test_both_answers_come_in_the_order_asked(content: Content) -> None:
    reply = answer("La certif coûte combien, et l'oral dure combien de temps ?", content)
    text = reply.text.replace("\u00a0", " ")
    cost, oral = text.find("financée"), text.find("1 h à 1 h 30")
    assert 0 <= cost < oral, text
    assert "`/intra certification`" in text


def test_the_answer_is_recorded_as_the_first_questions(content: Content) -> None:
    outcome = respond("Qui sont les référents intras et comment je les joins ?", content)
    assert outcome.answered and outcome.unit_id.startswith("referents")


def test_a_second_half_about_the_first_ones_subject_stays_in_its_topic(
    content: Content,
) -> None:
    # « qui la finance » alone finds the certification's cost; here « la » is the
    # investigation, which the content does not say who pays: one answer, not a wrong one.
    text = answer("Combien de temps dure l'investigation et qui la finance ?", content).text
    assert "6 à 9 semaines" in text and "Combien ça coûte" not in text
