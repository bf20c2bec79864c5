"""What referents and requesters read about a request: the exact French texts, and the caps.

These texts are the product: a referent decides from the notice alone, so every part of it
(who, their position, when, the message or its absence) is checked word for word.
"""

from __future__ import annotations

import datetime as dt

from bot.chat import User
from bot.invitations.records import ACCEPTED, ACCEPTING, DECLINED, PENDING, Invitation
from bot.invitations.texts import (
    MESSAGE_LIMIT,
    NAME_LIMIT,
    POSITION_LIMIT,
    USERNAME_LIMIT,
    at_username,
    decline_dialog,
    notice_text,
    outcome,
)

ASKED = dt.datetime(2026, 3, 26, 8, 30, tzinfo=dt.UTC)  # jeudi 26 mars à 9 h 30, Paris
DECIDED = dt.datetime(2026, 3, 27, 15, 0, tzinfo=dt.UTC)  # vendredi 27 mars à 16 h


def request(**changes: object) -> Invitation:
    fields: dict[str, object] = {
        "id": "inv1",
        "requester_id": "u1",
        "requester_username": "camille",
        "message": "Je suis intra à la DGFiP.",
        "state": PENDING,
        "created_at": ASKED,
        "decided_at": None,
        "decided_by": "",
        "decided_by_id": "",
        "reason": "",
        "notices": (),
    }
    return Invitation(**{**fields, **changes})  # type: ignore[arg-type]


CAMILLE = User("u1", "camille", full_name="Camille Testeuse", position="Intra à la DGFiP")


def test_the_notice_says_who_asks_for_what_and_when_with_the_message() -> None:
    assert notice_text(request(), CAMILLE, "domaine-intras-prive") == (
        "#### 📬 Demande d'accès à ~domaine-intras-prive\n"
        "**Camille Testeuse** (`@camille`), Intra à la DGFiP demande à rejoindre "
        "~domaine-intras-prive — le jeudi 26 mars à 9 h 30.\n"
        "> Je suis intra à la DGFiP."
    )


def test_the_short_notice_of_a_list_has_no_title_and_a_room_is_named_as_is() -> None:
    text = notice_text(request(message=""), None, "#intras:agent.tchap.gouv.fr", short=True)
    assert text == (
        "`@camille` demande à rejoindre #intras:agent.tchap.gouv.fr — le jeudi 26 mars à 9 h 30.\n"
        "_(pas de message)_"
    )


def test_profile_fields_and_the_message_are_capped() -> None:
    long = User("u1", "camille", full_name="N" * 1000, position="P" * 1000)
    text = notice_text(request(message="m" * 5000), long, "domaine-intras-prive")
    # A cap counts its ellipsis: the limit is what the reader sees.
    assert "N" * (NAME_LIMIT - 1) + "…" in text and "N" * NAME_LIMIT not in text
    assert "P" * (POSITION_LIMIT - 1) + "…" in text and "P" * POSITION_LIMIT not in text
    assert "m" * (MESSAGE_LIMIT - 1) + "…" in text and "m" * MESSAGE_LIMIT not in text


def test_a_username_is_shown_once_prefixed_in_a_code_span_and_capped() -> None:
    assert at_username("@camille") == "`@camille`"
    assert at_username("camille@") == "`@camille@\u2060`"  # a trailing @ cannot join a mention
    assert at_username("u" * 500) == f"`@{'u' * (USERNAME_LIMIT - 1)}…`"


def test_the_decline_dialog_asks_for_an_optional_word() -> None:
    dialog = decline_dialog(request())
    assert dialog.title == "Refuser la demande"
    assert dialog.introduction == (
        "Refuser la demande de `@camille` ? La personne sera prévenue, avec votre mot s'il y "
        "en a un."
    )
    assert dialog.submit_label == "Refuser"
    assert dialog.field_label == "Un mot pour la personne (facultatif)"
    assert dialog.placeholder == "Par exemple : ce canal est réservé aux intras en poste."
    assert dialog.max_length == MESSAGE_LIMIT


def test_each_outcome_says_who_decided_and_when() -> None:
    accepted = request(state=ACCEPTED, decided_at=DECIDED, decided_by="marine.purson")
    assert outcome(accepted) == (
        "✅ **Acceptée** par `@marine.purson` le vendredi 27 mars à 16 h : la personne a été "
        "ajoutée au canal."
    )
    declined = request(state=DECLINED, decided_at=DECIDED, decided_by="magali.marcel")
    assert outcome(declined) == "❌ **Refusée** par `@magali.marcel` le vendredi 27 mars à 16 h."
    assert outcome(request(state=ACCEPTING)) == "⏳ En cours de traitement."


def test_a_refusal_shows_its_reason_capped_on_one_line() -> None:
    reason = "Réservé aux intras en poste\n" + "x" * 400
    declined = request(state=DECLINED, decided_at=DECIDED, decided_by="m", reason=reason)
    text = outcome(declined)
    assert text.startswith(
        "❌ **Refusée** par `@m` le vendredi 27 mars à 16 h (motif transmis : Réservé aux intras"
    )
    assert "\n" not in text and text.endswith(")."), text
    assert len(text) < 320  # the reason is capped at 200 characters
    assert "x" * 150 in text
