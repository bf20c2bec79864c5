"""Greetings and thanks get a short greeting back, are no question, and are not recorded."""

from __future__ import annotations

import pytest

from bot.answers.answer import respond
from bot.answers.small_talk import FAREWELL_REPLY, GREETING_REPLY, THANKS_REPLY, small_talk
from bot.content.analysis import words
from bot.content.loader import Content


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("bonjour", GREETING_REPLY),
        ("salut le bot", GREETING_REPLY),
        ("hello there", GREETING_REPLY),
        ("ça va le bot ?", GREETING_REPLY),
        ("merci !", THANKS_REPLY),
        ("cool merci", THANKS_REPLY),
        ("Merci, c'est très clair !", THANKS_REPLY),
        ("merci beaucoup pour ton aide", THANKS_REPLY),
        ("bonne journée", FAREWELL_REPLY),
        ("a+", FAREWELL_REPLY),
        ("Allô !", GREETING_REPLY),
        ("Je vous remercie pour ces éclaircissements. Bien cordialement.", THANKS_REPLY),
        ("Je vous prie d'agréer l'expression de ma considération distinguée.", FAREWELL_REPLY),
    ],
)
def test_small_talk_gets_a_short_reply_pointing_to_help(
    message: str, expected: object, content: Content
) -> None:
    outcome = respond(message, content)
    assert outcome.reply == expected
    assert len(outcome.reply.text) <= 300 and "aide" in outcome.reply.text
    assert not outcome.question  # neither counted nor recorded as unanswered


@pytest.mark.parametrize(
    "message",
    [
        "traduis bonjour en espagnol",  # two other words: a request
        "bonjour, qui sont les référents ?",
        "merci pour l'info sur la certif",  # tied to a topic
        "Cordialement, quelles sont les dates de la prochaine session ?",
    ],
)
def test_a_greeting_with_a_question_is_the_question(message: str, content: Content) -> None:
    outcome = respond(message, content)
    assert outcome.reply not in (GREETING_REPLY, THANKS_REPLY, FAREWELL_REPLY)


def test_no_greeting_word_no_small_talk() -> None:
    assert small_talk(words("très clair")) is None
    assert small_talk(()) is None
