"""Each subcommand answers with the facts of the seed page a user looks for."""

from __future__ import annotations

import pytest

from bot.answers.answer import answer
from bot.chat import MAX_REPLY_CHARS, Visibility
from bot.content.loader import Content
from bot.content.typography import french


def flat(reply: str) -> str:
    """The reply with its no-break spaces as plain ones, to compare with plain text."""
    return reply.replace("\u202f", " ").replace("\u00a0", " ")


def text(question: str, content: Content) -> str:
    return answer(question, content).text


def test_help_lists_every_subcommand(content: Content) -> None:
    reply = text("aide", content)
    for command in (
        "role", "referents", "certification", "carriere", "canaux", "club",
        "ressources", "chercher", "rejoindre", "demandes",
    ):  # fmt: skip
        assert f"`/intra {command}" in reply
    assert text("", content) == reply
    assert text("help", content) == reply
    assert answer("aide", content).visibility is Visibility.EVERYONE


def test_referents_names_and_emails(content: Content) -> None:
    # The referents of the community doc since 2026-03-19, with their titles.
    reply = text("referents", content)
    for name, title, email in [
        ("Marine Purson", "responsable animation de la communauté beta.gouv.fr", "marine.purson@beta.gouv.fr"),
        ("Magali Marcel Garreau", "responsable de partenariat", "magali.marcel@beta.gouv.fr"),
    ]:  # fmt: skip
        assert f"**{name}**, {title}" in reply
        assert email in reply
    assert "Doberset" not in reply  # left the referents on 2026-03-19


def test_referents_usernames_do_not_ping_anyone(content: Content) -> None:
    # A mention in a bot reply would notify the referent each time someone asks.
    reply = text("referents", content)
    assert "`@magali.marcel`" in reply
    assert " @magali.marcel" not in reply


def test_certification_overview_lists_its_sections_as_subcommands(content: Content) -> None:
    reply = text("certification", content)
    assert "Concevoir un service numérique public" in reply
    assert "RS6247" in reply
    assert "`/intra certification sessions` : Deux sessions par an" in flat(reply)
    assert "`/intra certification oral`" in reply
    assert "Pitch" not in reply  # the sections are named, not dumped
    assert len(reply) < 2000


def test_certification_sections_by_subcommand(content: Content) -> None:
    sessions = flat(text("certification sessions", content))
    assert "mai" in sessions and "décembre" in sessions
    skills = text("/intra certification competences", content)
    for skill in ("Pitch", "Prototypage", "Déploiement", "Financement", "cohésion d'équipe"):
        assert skill in skills
    assert "financée par beta.gouv.fr" in text("certification cout", content)


def test_channels_names_both_channels(content: Content) -> None:
    reply = text("canaux", content)
    assert "~domaine-intrapreneurs" in reply
    assert "~domaine-intras-prive" in reply
    assert "/intra rejoindre" in reply


def test_club_rhythm_and_agenda(content: Content) -> None:
    reply = text("club", content)
    assert "premier jeudi du mois" in reply
    assert "16\u00a0h" in reply  # French typography: « 16 h » never breaks
    assert content.club.agenda_url in reply


def test_resources_list_every_title(content: Content) -> None:
    reply = text("ressources", content)
    for resource in content.resources.resources:
        assert french(resource.title) in reply
        assert resource.url in reply
    assert "guide-rgpd-et-securite" not in reply
    assert "ci-dessous" not in reply  # the seed's orphan last sentence is gone


def test_resources_filtered_by_word(content: Content) -> None:
    reply = text("ressources budget", content)
    assert "budget" in reply
    assert "Embrapa" not in reply
    assert "Aucune ressource" in text("ressources zzzz", content)


def test_career_and_role(content: Content) -> None:
    assert "clinique des situations difficiles" in text("carriere", content)
    role = text("role", content)
    assert "fiche métier" in role.lower()
    phases = text("role phases", content)
    assert "Investigation" in phases and "Construction" in phases and "Accélération" in phases


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Référents", "Les référents intras"),
        ("RÉFÉRENTS", "Les référents intras"),
        ("carrière", "accompagnement des carrières"),
        ("/intra certif", "Concevoir un service numérique public"),
        ("ressource", "Ressources pour les intras"),
        ("qui sont les référents ?", "Les référents intras"),
        ("onboarding", "embarquement"),
    ],
)
def test_aliases_are_case_and_accent_insensitive(
    typed: str, expected: str, content: Content
) -> None:
    assert expected in text(typed, content)


def test_a_mistyped_topic_says_so_and_shows_the_topic(content: Content) -> None:
    reply = text("refrents", content)
    assert reply.startswith("Vouliez-vous dire `/intra referents`")
    assert "marine.purson@beta.gouv.fr" in reply


def test_gibberish_gets_the_honest_answer(content: Content) -> None:
    reply = flat(text("xyz", content))
    assert "Je n'ai pas de réponse sûre à « xyz »" in reply
    assert "/intra aide" in reply


def test_search_is_ranked_and_accent_insensitive(content: Content) -> None:
    reply = text("chercher donnees personnelles", content)
    first = reply.splitlines()[2]
    assert "Protection des données personnelles" in first
    assert "Aucune" not in text("chercher RGPD", content)
    assert "Que voulez-vous chercher" in text("chercher", content)


def test_free_text_searches_everything(content: Content) -> None:
    reply = text("comment se passe l'oral d'évaluation", content)
    assert "/intra certification" in reply


def test_join_and_requests_outside_mattermost_say_where_they_work(content: Content) -> None:
    for command in ("rejoindre", "acces", "invitation", "demandes"):
        assert "s'utilise sur Mattermost" in text(command, content)


def test_echoed_text_cannot_mention_anyone(content: Content) -> None:
    # « @all », not « @channel »: « channel » names the channels topic, whose overview
    # would answer instead of the honest reply that quotes the question.
    reply = text("@all zzqq", content)
    assert "@all" not in reply
    assert "@\u2060all" in reply


def test_every_reply_fits_in_a_post(content: Content) -> None:
    for topic_id in content.topics:
        assert len(text(topic_id, content)) < MAX_REPLY_CHARS


def test_a_topic_found_by_search_is_named_once(content: Content) -> None:
    reply = flat(text("chercher rgpd", content))
    assert "- **Ressources pour les intras** — " in reply
    assert "(Ressources pour les intras) — Quelques" not in reply


def test_english_how_many_is_combien_and_stays_honest(content: Content) -> None:
    assert "92 intras" in flat(text("how many intras are certified", content))[:600]
    assert "Je n'ai pas de réponse sûre" in text("how much is a coffee", content)
