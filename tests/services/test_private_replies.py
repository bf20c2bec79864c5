"""Who may see a reply is the core's decision: lists of requests, someone's own request
and permission errors are for their asker only; the content's answers are not."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.answers.conversation import Conversation
from bot.chat import Message, Platforms, Visibility
from bot.content.loader import ContentSource
from bot.invitations.service import InvitationService, InvitationSettings
from bot.invitations.texts import ACCEPT
from bot.store import Store
from tests.fakes import CAMILLE, MAGALI, FakeChatPlatform, FakeClock


def service(tmp_path: Path) -> InvitationService:
    return InvitationService(
        ContentSource(),
        Store.open(f"sqlite:///{tmp_path}/s.db"),
        Platforms(FakeChatPlatform()),
        InvitationSettings(),
        FakeClock(),
    )


def test_the_requests_list_and_its_refusal_are_for_the_asker_only(tmp_path: Path) -> None:
    invitations = service(tmp_path)
    asyncio.run(invitations.request(Message("rejoindre", CAMILLE, "c"), "bonjour"))
    for who in (MAGALI, CAMILLE):
        reply = asyncio.run(invitations.pending(Message("demandes", who, "c"), ""))
        assert reply.visibility is Visibility.ASKER, who


def test_a_request_is_answered_to_its_asker_only(tmp_path: Path) -> None:
    invitations = service(tmp_path)
    first = asyncio.run(invitations.request(Message("rejoindre", CAMILLE, "c"), ""))
    again = asyncio.run(invitations.request(Message("rejoindre", CAMILLE, "c"), ""))
    assert "transmise" in first.text and "en attente" in again.text
    assert {first.visibility, again.visibility} == {Visibility.ASKER}


def test_a_refused_decision_is_for_the_asker_only(tmp_path: Path) -> None:
    invitations = service(tmp_path)
    asyncio.run(invitations.request(Message("rejoindre", CAMILLE, "c"), ""))
    invitation = invitations.records.open_for(CAMILLE.id)
    assert invitation is not None
    decision = asyncio.run(invitations.decide(invitation.id, ACCEPT, CAMILLE))
    assert decision.reply.visibility is Visibility.ASKER


def test_content_answers_may_be_seen_by_everyone(tmp_path: Path) -> None:
    conversation = Conversation(ContentSource())
    reply = asyncio.run(conversation.respond(Message("club", CAMILLE, "c")))
    assert reply.visibility is Visibility.EVERYONE
