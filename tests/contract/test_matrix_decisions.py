"""Reactions and typed commands on recorded Matrix event shapes -> the invitation decisions.

The router and `MatrixDecisions` run on a fake client (the calls they make); the payloads
are shaped as Synapse sends them in a sync (plain, or as the decrypted event of an
encrypted room). The same flows run against the real Synapse in
tests/e2e_matrix/test_matrix_invitations.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from mautrix.types import Event, EventType, MessageEvent

from bot.adapters.matrix.decisions import MatrixDecisions
from bot.adapters.matrix.events import MatrixEventRouter
from bot.adapters.matrix.platform import MatrixPlatform
from bot.answers.conversation import Conversation
from bot.chat import Platforms
from bot.content.loader import ContentSource
from bot.invitations.records import ACCEPTED, DECLINED, PENDING, Invitation
from bot.invitations.service import InvitationService, InvitationSettings
from bot.invitations.typed import TypedDecisions
from bot.store import Store
from tests.contract.test_matrix_router import BOT, ROOM, FakeClient
from tests.fakes import FakeChatPlatform, FakeClock

REFERENT = "@marine.purson-beta.gouv.fr:agent.dinum.tchap.gouv.fr"
INTRA = "@camille-x.gouv.fr:agent.dinum.tchap.gouv.fr"
NOTICE = "$notice"


class RecordingClient(FakeClient):
    """The fake client, also keeping each event's type (reactions vs messages)."""

    def __init__(self) -> None:
        super().__init__()
        self.types: list[str] = []

    async def send_message_event(
        self, room_id: str, type_: object, content: dict[str, Any], txn_id: str | None = None
    ) -> str:
        self.types.append(str(type_))
        return await super().send_message_event(room_id, type_, content, txn_id)


class Setup:
    def __init__(self, tmp_path: Path, content_dir: Path) -> None:
        path = content_dir / "referents.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["referents"][0]["comptes"]["tchap"] = REFERENT
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        content = ContentSource(content_dir)
        self.store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
        # ROOM is the DM the bot made with each of them: an answer for the asker stays there.
        for person in (REFERENT, INTRA):
            self.store.set_value(f"matrix.dm:{BOT}:{person}", ROOM)
        self.matrix = FakeChatPlatform(name="matrix")
        self.service = InvitationService(
            content, self.store, Platforms(self.matrix), InvitationSettings(), FakeClock()
        )
        conversation = Conversation(content)
        typed = TypedDecisions(self.service)
        conversation.register("accepter", typed.accept)
        conversation.register("refuser", typed.decline)
        self.client = RecordingClient()
        self.platform = MatrixPlatform(self.store, private_room="!private:x")
        self.platform.bind(self.client)  # type: ignore[arg-type]
        self.router = MatrixEventRouter(
            self.client,  # type: ignore[arg-type]
            self.store,
            conversation,
            self.platform,
            prefix="!intra",
            allowed_servers=frozenset({"agent.dinum.tchap.gouv.fr"}),
        )
        self.router.decisions = MatrixDecisions(
            self.client,  # type: ignore[arg-type]
            self.store,
            self.platform,
            self.service,
        )

    async def request(self) -> Invitation:
        invitation = self.service.records.create(INTRA, INTRA, "", FakeClock().now, None, "matrix")
        assert invitation is not None
        # As the outbox does once the notice is posted: the choices offered as reactions.
        await self.platform.offer_choices(ROOM, NOTICE, self.service.notice(invitation))
        return invitation

    def state(self, invitation: Invitation) -> str:
        current = self.service.records.get(invitation.id)
        assert current is not None
        return current.state


@pytest.fixture
def setup(tmp_path: Path, content_copy: Path) -> Setup:
    return Setup(tmp_path, content_copy)


def reaction(key: str, sender: str = REFERENT, event_id: str = "$r1", target: str = NOTICE) -> Any:
    return Event.deserialize(
        {
            "type": "m.reaction",
            "room_id": ROOM,
            "sender": sender,
            "event_id": event_id,
            "origin_server_ts": 1764340000000,
            "content": {
                "m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}
            },
            "unsigned": {"age": 12},
        }
    )


def typed(body: str, sender: str = REFERENT, event_id: str = "$t1") -> Any:
    return MessageEvent.deserialize(
        {
            "type": "m.room.message",
            "room_id": ROOM,
            "sender": sender,
            "event_id": event_id,
            "origin_server_ts": 1764340000000,
            "content": {"msgtype": "m.text", "body": body},
        }
    )


async def test_the_notice_offers_both_choices_as_the_bots_reactions(setup: Setup) -> None:
    await setup.request()
    assert setup.client.types == ["m.reaction", "m.reaction"]
    keys = [content["m.relates_to"] for _, content in setup.client.sent]
    assert keys == [
        {"rel_type": "m.annotation", "event_id": NOTICE, "key": "✅"},
        {"rel_type": "m.annotation", "event_id": NOTICE, "key": "❌"},
    ]


async def test_a_referents_check_mark_accepts_once_even_when_replayed(setup: Setup) -> None:
    invitation = await setup.request()
    sent = len(setup.client.sent)
    event = reaction("✅")
    assert event.type == EventType.REACTION
    await setup.router.on_reaction(event)
    await setup.router.on_reaction(reaction("✅"))  # the same event again: a replayed sync
    assert setup.state(invitation) == ACCEPTED and setup.matrix.adds == 1
    [(room, answer)] = setup.client.sent[sent:]
    assert room == ROOM and "a été ajouté·e" in answer["body"]
    assert answer["m.relates_to"]["event_id"] == NOTICE  # under the notice, in its thread


async def test_a_cross_declines_without_a_reason_and_tells_the_person(setup: Setup) -> None:
    invitation = await setup.request()
    await setup.router.on_reaction(reaction("❌\ufe0f"))  # some clients add the selector
    current = setup.service.records.get(invitation.id)
    assert current is not None and current.state == DECLINED and current.reason == ""
    [(user, told)] = setup.matrix.sent
    assert user == INTRA and "pas été acceptée" in told.text


async def test_reactions_that_are_not_a_referents_choice_change_nothing(setup: Setup) -> None:
    invitation = await setup.request()
    sent = len(setup.client.sent)
    await setup.router.on_reaction(reaction("✅", sender=INTRA, event_id="$intra"))
    await setup.router.on_reaction(reaction("✅", sender=BOT, event_id="$own"))
    await setup.router.on_reaction(reaction("👍", event_id="$thumb"))
    await setup.router.on_reaction(reaction("✅", event_id="$other", target="$chat"))
    assert setup.state(invitation) == PENDING and setup.client.sent[sent:] == []
    # The intra's ignored reaction was not claimed: nothing stops a real decision later.
    await setup.router.on_reaction(reaction("✅", event_id="$late"))
    assert setup.state(invitation) == ACCEPTED


async def test_a_decrypted_reaction_takes_the_same_way(setup: Setup) -> None:
    invitation = await setup.request()
    await setup.router._decrypted(reaction("✅", event_id="$encrypted"))
    assert setup.state(invitation) == ACCEPTED


async def test_typed_commands_decide_in_a_dm_for_referents_only(setup: Setup) -> None:
    invitation = await setup.request()
    sent = len(setup.client.sent)
    await setup.router.on_message(typed(f"!intra accepter {invitation.number}", INTRA, "$x"))
    assert setup.state(invitation) == PENDING
    assert "Seules les référentes" in setup.client.sent[sent][1]["body"]
    await setup.router.on_message(typed(f"refuser {invitation.number} pas cette fois"))
    current = setup.service.records.get(invitation.id)
    assert current is not None and current.state == DECLINED
    assert current.reason == "pas cette fois"
    assert "a été refusée" in setup.client.sent[-1][1]["body"]
