"""When the bot answers, and from what: what a question is tied to decides with coverage."""

from __future__ import annotations

from bot.answers.anchors import anchored_topics, anchors
from bot.answers.answer import answer, resolve, respond
from bot.answers.club_dates import asks_next_club
from bot.answers.decision import last_question
from bot.content.loader import Content

HONEST = "Je n'ai pas de réponse sûre"


def test_anchors_are_names_people_and_the_contents_rare_words(content: Content) -> None:
    table = anchors(content)
    term = content.retriever.analyzer.term
    assert table[term("certif")] == ("certification",)  # an alias
    assert "referents" in table[term("purson")]  # a person
    assert "role" in table[term("investigation")]  # not an everyday word
    for everyday in ("temps", "horaires", "taux", "demande", "combien"):
        assert term(everyday) not in table, everyday


def test_an_everyday_word_typed_ties_nothing(content: Content) -> None:
    pairs = content.retriever.analyzer.pairs
    assert anchored_topics(content, pairs("horaires RER B")) == []
    assert anchored_topics(content, pairs("le club en ligne")) == ["club"]  # « ligne » is not
    assert anchored_topics(content, pairs("l'oral en présentiel")) != []


def test_a_common_word_shared_with_the_content_is_no_answer(content: Content) -> None:
    for question in ("horaires RER B", "taux livret A", "comment renouveler mon passeport ?"):
        assert HONEST in answer(question, content).text, question


def test_a_topic_named_in_unknown_words_gets_its_overview(content: Content) -> None:
    # The topic's own unit or its overview as a fallback (« certif » alone scores about the
    # threshold, moving with the content's size): either way the reader gets the overview.
    outcome = respond("c koi la certif exactement", content)
    assert outcome.topic_id == "certification" and outcome.unit_id == "certification"
    assert outcome.reply.text.startswith("### La certification")


def test_a_tied_question_is_not_answered_from_another_topic_by_a_stray_word(
    content: Content,
) -> None:
    # « parler » is in a careers unit; the question is about the certification.
    outcome = respond("c'est quoi cette certif dont tout le monde parle", content)
    assert outcome.topic_id in ("certification", "")
    assert not outcome.unit_id.startswith("carriere") or not outcome.answered


def test_a_tied_question_matching_only_its_tie_is_no_answer(content: Content) -> None:
    # « contractuel » is in the certification's conditions; the question is about meal vouchers.
    outcome = respond("comment avoir des tickets resto quand on est contractuel", content)
    assert HONEST in outcome.reply.text


def test_a_long_message_is_tried_on_itslast_question(content: Content) -> None:
    message = (
        "Bonjour, je suis greffière au tribunal de Bordeaux depuis douze ans. Mon chef me "
        "propose de porter un projet. Combien de temps dure l'oral de la certification ?"
    )
    assert last_question(message) == "Combien de temps dure l'oral de la certification ?"
    assert "1 h 30" in answer(message, content).text.replace("\u202f", " ").replace("\xa0", " ")
    assert last_question("une seule phrase ?") == ""


def test_the_next_club_goes_to_the_clubs_dates(content: Content) -> None:
    for question in (
        "c'est quand le prochain club ?",
        "prochain club",
        "la prochaine date",
        "When is the next intras club?",
        "Pourriez-vous m'indiquer la date du prochain club des intrapreneurs ?",
    ):
        assert resolve(question, content) == "club", question
    for question in (
        "c'était quand le forum intras avec la remise des certifs ?",
        "comment être prévenu du prochain club ?",
        "le forum commence à quelle heure ?",
        "prochaine session de certification",
        "c'est quoi le format du club ?",
    ):
        assert resolve(question, content) != "club", question


def test_asks_next_club_needs_a_when_word() -> None:
    assert asks_next_club(("quand", "club"), {"club"}, [])
    assert not asks_next_club(("format", "club"), {"club"}, ["format"])
    assert not asks_next_club(("depuis", "quand", "club"), {"club"}, [])


def test_the_honest_reply_names_the_contact_that_fits(content: Content) -> None:
    weather = answer("quel temps fera-t-il demain à Brest ?", content).text
    assert HONEST in weather and "contact@beta.gouv.fr" not in weather.split("\n\n")[1]


def test_a_unit_matched_only_by_tying_words_answers_when_it_clearly_leads(
    content: Content,
) -> None:
    # « Benjamin Doberset » and « référent » all tie the question to the referents; the
    # team's history covers most of it, far ahead of anything else.
    outcome = respond(
        "Mon chef dit que Benjamin Doberset est toujours notre référent, exact ?", content
    )
    assert outcome.answered and outcome.unit_id == "referents/historique"
    assert "19 mars 2026" in outcome.reply.text.replace("\u00a0", " ")[:600]
