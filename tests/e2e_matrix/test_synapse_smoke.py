"""The homeserver itself, seen by an independent client: users log in, talk, see each other."""

from __future__ import annotations

import secrets

import pytest

from tests.e2e_matrix.conftest import SynapseServer
from tests.e2e_matrix.nio_user import NioUser

pytestmark = pytest.mark.e2e


async def test_bootstrap_rooms_and_power_levels(synapse: SynapseServer) -> None:
    state = synapse.admin("GET", f"/_matrix/client/v3/rooms/{synapse.private_room_id}/state")
    assert isinstance(state, list)
    by_type = {(e["type"], e.get("state_key", "")): e["content"] for e in state}
    assert by_type[("m.room.create", "")]["room_version"] == "11"
    assert by_type[("im.vector.room.access_rules", "")]["rule"] == "restricted"
    assert by_type[("m.room.encryption", "")]["algorithm"] == "m.megolm.v1.aes-sha2"
    levels = by_type[("m.room.power_levels", "")]
    assert levels["users"][synapse.bot_user_id] >= levels["invite"] == 50
    members = {
        key
        for (kind, key), content in by_type.items()
        if kind == "m.room.member" and content["membership"] == "join"
    }
    assert synapse.bot_user_id in members
    assert not members & {synapse.user_ids[u] for u in synapse.intra_users}


async def test_a_message_in_the_public_room_reaches_another_user(
    synapse: SynapseServer, alice: NioUser, bruno: NioUser
) -> None:
    text = f"bonjour {secrets.token_hex(4)}"
    mark = bruno.mark()
    event_id = await alice.send_text(synapse.public_room_id, text)
    seen = await bruno.wait_for("alice's message", lambda e: e.event_id == event_id, after=mark)
    assert seen.sender == alice.user_id
    assert seen.content["body"] == text
    assert seen.room_id == synapse.public_room_id
