"""Replies that speak the user's platform: every kind of reply, as a Tchap user and as a
Mattermost user reads it. Pure core: `Conversation.respond` with each platform's dialect,
the welcome, the invitation texts, and `speak` itself.

On Tchap `/intra` is a client command: the bot's word is `!intra`, its rooms are named
by their alias or id, a person by their Matrix id (one « @ »).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path

from bot.answers.conversation import Conversation
from bot.answers.replies import no_answer
from bot.answers.welcome import welcome_reply
from bot.chat import (
    CONSOLE_DIALECT,
    Button,
    Card,
    Dialect,
    Message,
    Platforms,
    Reply,
    User,
)
from bot.content.loader import ContentSource
from bot.content.models import Accounts, Referent
from bot.content.typography import french
from bot.content.units import person_line
from bot.invitations.records import PENDING, Invitation
from bot.invitations.texts import (
    NO_NUMBER,
    NOT_DELIVERED,
    SOMEONE,
    already_decided,
    declined_recently,
    declined_text,
    how_to_decide,
    in_progress,
    recall_text,
)
from bot.speech import place, speak, speak_text
from tests.fakes import FakeChatPlatform

PUBLIC_ROOM, PRIVATE_ROOM = "#domaine-intras:agent.tchap.gouv.fr", "!prive:agent.tchap.gouv.fr"
TCHAP = Dialect("Tchap", "!intra", PUBLIC_ROOM, PRIVATE_ROOM)
MATTERMOST = Dialect("Mattermost", "/intra", "domaine-intrapreneurs", "domaine-intras-prive")
DIALECTS = {"matrix": TCHAP, "mattermost": MATTERMOST}
CONTENT = ContentSource()
CONVERSATION = Conversation(CONTENT, dialects=lambda name: DIALECTS.get(name, CONSOLE_DIALECT))
ASKER = User("u1", "camille")
# A Mattermost channel named in prose (not the subject of a bold list line).
MATTERMOST_CHANNEL = re.compile(r"(?<![*\w])~domaine-")


def ask(text: str, platform: str) -> str:
    message = Message(text, ASKER, "c1", platform=platform)
    return asyncio.run(CONVERSATION.respond(message)).text


def assert_speaks_tchap(text: str) -> None:
    assert "`/intra" not in text
    assert "sur Mattermost" not in text
    assert not MATTERMOST_CHANNEL.search(text), text


def assert_speaks_mattermost(text: str) -> None:
    assert "!intra" not in text
    assert "sur Tchap" not in text
    assert PUBLIC_ROOM not in text and PRIVATE_ROOM not in text


# -- the answers -------------------------------------------------------------------------


def test_the_help_gives_each_platform_its_command_word_and_private_channel() -> None:
    tchap, mattermost = ask("aide", "matrix"), ask("aide", "mattermost")
    assert "- `!intra certification`\u00a0:" in tchap
    assert f"demander l'accès au canal privé {PRIVATE_ROOM}" in tchap
    assert "sans `!intra`" in tchap
    assert_speaks_tchap(tchap)
    assert "- `/intra certification`\u00a0:" in mattermost
    assert "demander l'accès au canal privé ~domaine-intras-prive" in mattermost
    assert_speaks_mattermost(mattermost)


def test_a_topic_overview_names_its_sub_commands_with_the_platform_word() -> None:
    tchap, mattermost = ask("certification", "matrix"), ask("certification", "mattermost")
    assert "`!intra certification " in tchap
    assert_speaks_tchap(tchap)
    assert "`/intra certification " in mattermost
    assert_speaks_mattermost(mattermost)
    # Only the command word differs.
    assert tchap.replace("`!intra", "`/intra") == mattermost


def test_the_referents_show_the_account_on_the_askers_platform_only() -> None:
    tchap, mattermost = ask("referents", "matrix"), ask("referents", "mattermost")
    assert f"sur Mattermost{french(' :')[-2:]} `@marine.purson`" in mattermost
    assert_speaks_mattermost(mattermost)
    # The content has no Tchap account yet: a Tchap user sees the e-mail, no Mattermost one.
    assert "marine.purson@beta.gouv.fr" in tchap
    assert "@marine.purson`" not in tchap
    assert_speaks_tchap(tchap)
    # The console speaks for both: every account known.
    assert "sur Mattermost" in ask("referents", "")


def test_a_unit_answer_and_its_more_line_speak_the_platform() -> None:
    tchap = ask("qui est marine purson ?", "matrix")
    mattermost = ask("qui est marine purson ?", "mattermost")
    assert "Plus\u00a0: `!intra referents`" in tchap
    assert_speaks_tchap(tchap)
    assert "Plus\u00a0: `/intra referents`" in mattermost
    assert "`@marine.purson`" in mattermost
    assert_speaks_mattermost(mattermost)


def test_the_channels_topic_lists_the_mattermost_channels_it_is_about_on_tchap_too() -> None:
    tchap = ask("canaux", "matrix")
    assert "**~domaine-intrapreneurs** (public)" in tchap
    assert "**~domaine-intras-prive** (privé)" in tchap
    assert "tapez `!intra rejoindre`" in tchap
    assert "tapez `/intra rejoindre`" in ask("canaux", "mattermost")


def test_a_content_text_naming_the_public_channel_names_the_tchap_room_on_tchap() -> None:
    tchap = ask("embarquement commencer", "matrix")
    mattermost = ask("embarquement commencer", "mattermost")
    assert f"ici, {PUBLIC_ROOM}" in tchap
    assert "`!intra rejoindre`" in tchap and "`!intra club`" in tchap
    assert_speaks_tchap(tchap)
    assert "ici, ~domaine-intrapreneurs" in mattermost
    assert_speaks_mattermost(mattermost)


# -- the honest fallback -------------------------------------------------------------------


def test_no_answer_near_the_certification_names_its_contact_not_the_referents() -> None:
    content = CONTENT.current
    text = no_answer(content, "la session de jury pendant les vacances", ["certification", "role"])
    tchap, mattermost = speak_text(text, TCHAP), speak_text(text, MATTERMOST)
    for shown in (tchap, mattermost):
        assert shown.startswith("Je n'ai pas de réponse sûre à «\u00a0la session de jury")
        assert "\n\nPour la certification, écrivez à contact@beta.gouv.fr\u202f;" in shown
        assert "marine.purson@beta.gouv.fr" not in shown
    assert f"aux intras dans {PUBLIC_ROOM}." in tchap
    assert "pour une autre question, aux référentes (`!intra referents`)" in tchap
    assert "Tapez `!intra aide`" in tchap
    assert "Sujets proches\u00a0: `!intra certification` · `!intra role`" in tchap
    assert_speaks_tchap(tchap)
    assert "aux intras dans ~domaine-intrapreneurs." in mattermost
    assert "Tapez `/intra aide`" in mattermost
    assert_speaks_mattermost(mattermost)


def test_no_answer_near_another_topic_names_the_referents() -> None:
    text = no_answer(CONTENT.current, "une question", ["role", "certification"])
    assert (
        "Les référentes vous répondront\u00a0: Marine Purson (marine.purson@beta.gouv.fr)" in text
    )
    assert "contact@beta.gouv.fr" not in text
    assert "Les référentes" in no_answer(CONTENT.current, "une question", [])


def test_no_answer_elsewhere_names_the_referents_not_the_certification() -> None:
    question = "quel temps fait-il à Brest"
    tchap, mattermost = ask(question, "matrix"), ask(question, "mattermost")
    for text in (tchap, mattermost):
        assert "Je n'ai pas de réponse sûre" in text
        assert "Les référentes vous répondront" in text
        assert "Marine Purson (marine.purson@beta.gouv.fr)" in text
        assert "contact@beta.gouv.fr" not in text
    assert_speaks_tchap(tchap)
    assert "Les sujets que je connais\u00a0: `!intra " in tchap
    assert_speaks_mattermost(mattermost)
    assert "Les sujets que je connais\u00a0: `/intra " in mattermost


# -- the welcome ---------------------------------------------------------------------------


def test_the_welcome_names_the_room_joined_and_the_platform_word() -> None:
    content = CONTENT.current
    tchap = welcome_reply(content, TCHAP).text
    mattermost = welcome_reply(content, MATTERMOST).text
    assert tchap.startswith(f"👋 Bienvenue dans {PUBLIC_ROOM} !")
    assert "tapez `!intra aide`" in tchap and "tapez `!intra rejoindre`" in tchap
    assert_speaks_tchap(tchap)
    assert mattermost.startswith("👋 Bienvenue dans ~domaine-intrapreneurs !")
    assert "tapez `/intra aide`" in mattermost
    assert_speaks_mattermost(mattermost)


def test_a_renamed_mattermost_channel_is_named_as_configured() -> None:
    renamed = Dialect("Mattermost", "/intra", "intras", "intras-secret")
    assert welcome_reply(CONTENT.current, renamed).text.startswith("👋 Bienvenue dans ~intras !")


# -- invitations ---------------------------------------------------------------------------

ASKED = dt.datetime(2026, 3, 26, 8, 30, tzinfo=dt.UTC)


def invitation(platform: str) -> Invitation:
    return Invitation(
        "inv1", "u1", "camille", "", PENDING, ASKED, None, "", "", "", (), platform, 12
    )


def test_how_to_decide_gives_each_platform_its_command_word() -> None:
    tchap = how_to_decide(invitation("matrix"), TCHAP.command)
    mattermost = how_to_decide(invitation("mattermost"), MATTERMOST.command)
    assert "`!intra accepter 12` ou `!intra refuser 12 [motif]`" in tchap
    assert "réagissez avec ✅" in tchap
    assert "`/intra accepter 12` ou `/intra refuser 12 [motif]`" in mattermost
    assert "les boutons ci-dessous" in mattermost


def test_the_requesters_texts_give_each_platform_its_command_word() -> None:
    again = dt.datetime(2026, 4, 26, tzinfo=dt.UTC)
    for dialect in (TCHAP, MATTERMOST):
        word, other = dialect.command, ({"/intra", "!intra"} - {dialect.command}).pop()
        texts = [
            declined_recently(invitation("matrix"), again, word),
            declined_text("marine.purson", "", place(dialect.private_channel), word),
            recall_text(2, place(dialect.private_channel), 3, word),
            NOT_DELIVERED.format(command=word),
            NO_NUMBER.format(command=word, verb="accepter"),
        ]
        for text in texts:
            assert f"`{word} " in text
            assert other not in text


def test_already_decided_and_in_progress_show_one_at_on_either_platform() -> None:
    matrix_id = "@marine.purson-beta.gouv.fr:agent.tchap.gouv.fr"
    assert already_decided(matrix_id) == (f"Cette demande a déjà été traitée par `{matrix_id}`.")
    assert already_decided("marine.purson") == (
        "Cette demande a déjà été traitée par `@marine.purson`."
    )
    assert in_progress(matrix_id).startswith(
        f"Cette demande est en cours de traitement par `{matrix_id}` : rien à faire"
    )
    assert in_progress("marine.purson").startswith(
        "Cette demande est en cours de traitement par `@marine.purson` :"
    )


def test_who_decided_unknown_is_not_a_mention_of_someone() -> None:
    assert already_decided(SOMEONE) == "Cette demande a déjà été traitée."
    assert in_progress(SOMEONE).startswith("Cette demande est en cours de traitement : rien")
    assert "@" not in already_decided("") + in_progress("")


def test_a_request_on_tchap_is_answered_in_tchap_words(tmp_path: Path) -> None:
    """`rejoindre` through the conversation, the platform's dialect coming from `Platforms`:
    the reply a person on Tchap reads after asking, with a request already pending."""
    from bot.invitations.service import InvitationService, InvitationSettings
    from bot.store import Store
    from tests.fakes import FakeClock

    store = Store.open(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        matrix = FakeChatPlatform(name="matrix")
        platforms = Platforms(matrix)
        service = InvitationService(CONTENT, store, platforms, InvitationSettings(), FakeClock())
        conversation = Conversation(CONTENT, dialects=platforms.dialect)
        conversation.register("rejoindre", service.request)
        camille = User("@camille:agent.tchap.gouv.fr", "@camille:agent.tchap.gouv.fr")
        asked = Message("rejoindre", camille, "dm", platform="matrix")
        asyncio.run(conversation.respond(asked))
        again = asyncio.run(conversation.respond(asked)).text
    finally:
        store.close()
    assert "en attente depuis" in again
    assert "~domaine-intras-prive" in again  # the fake's private room is named so
    assert_speaks_tchap(again.replace("~domaine-intras-prive", ""))


# -- speak itself ----------------------------------------------------------------------------


def test_speak_rewrites_cards_too_and_keeps_an_unchanged_reply_as_the_same_object() -> None:
    reply = Reply("Tapez `/intra demandes`.", cards=(Card("`/intra accepter 3`", ()),))
    tchap = speak(reply, TCHAP)
    assert tchap.text == "Tapez `!intra demandes`."
    assert tchap.cards[0].text == "`!intra accepter 3`"
    # Unchanged, and the same object at each call (the cache is keyed by equality: an equal
    # reply spoken before, in this process, may be the object that comes back).
    plain = Reply("Bonjour", buttons=(Button("OK", "ok", "1"),))
    assert speak(plain, TCHAP) == plain
    assert speak(plain, TCHAP) is speak(plain, TCHAP)
    assert speak(reply, CONSOLE_DIALECT) == reply
    # Cached: the same reply for the same platform is the same object (adapters' caches).
    assert speak(reply, TCHAP) is tchap


def test_speak_leaves_links_urls_and_bold_channels_alone() -> None:
    text = (
        "[doc](https://doc.incubateur.net/x/intrapreneur) https://exemple.fr/intra "
        "**~domaine-intrapreneurs** et ~domaine-intrapreneurs, ~autre-canal."
    )
    assert speak_text(text, TCHAP) == (
        "[doc](https://doc.incubateur.net/x/intrapreneur) https://exemple.fr/intra "
        f"**~domaine-intrapreneurs** et {PUBLIC_ROOM}, ~autre-canal."
    )


def test_a_platform_without_its_rooms_configured_keeps_the_contents_names() -> None:
    bare = Dialect("Tchap", "!intra")
    assert speak_text("dans ~domaine-intrapreneurs", bare) == "dans ~domaine-intrapreneurs"


def test_a_person_line_shows_the_askers_account_or_both_on_the_console() -> None:
    person = Referent(
        name="Marine Purson",
        role="animation",
        email="marine.purson@beta.gouv.fr",
        comptes=Accounts(
            mattermost="marine.purson", tchap="@marine.purson-beta.gouv.fr:agent.tchap.gouv.fr"
        ),
    )
    line = french(person_line(person))
    tchap, mattermost = speak_text(line, TCHAP), speak_text(line, MATTERMOST)
    assert tchap.endswith("· sur Tchap\u00a0: `@marine.purson-beta.gouv.fr:agent.tchap.gouv.fr`")
    assert "Mattermost" not in tchap
    assert mattermost.endswith("· sur Mattermost\u00a0: `@marine.purson`")
    assert "Tchap" not in mattermost
    assert speak_text(line, CONSOLE_DIALECT) == line
    assert "@@" not in line


def test_the_platforms_declare_their_dialects() -> None:
    platforms = Platforms(FakeChatPlatform(), FakeChatPlatform(name="matrix"))
    assert platforms.dialect("matrix").command == "!intra"
    assert platforms.dialect("matrix").label == "Tchap"
    assert platforms.dialect("mattermost").command == "/intra"
    assert platforms.dialect("") == CONSOLE_DIALECT
    assert platforms.dialect("irc") == CONSOLE_DIALECT
