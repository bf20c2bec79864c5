"""A reply in a plain room costs one send, not a look-up of the room's encryption first."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e_matrix.bot_runner import RunningBot
from tests.e2e_matrix.conftest import SynapseServer
from tests.e2e_matrix.nio_user import NioUser

pytestmark = pytest.mark.e2e


async def test_the_second_reply_in_the_public_room_asks_nothing_about_encryption(
    synapse: SynapseServer, bot: RunningBot, alice: NioUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = bot.adapter.client.api  # type: ignore[union-attr]
    paths: list[str] = []
    request = api.request

    async def recording(method: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        paths.append(str(path))
        return await request(method, path, *args, **kwargs)

    monkeypatch.setattr(api, "request", recording)
    for _ in range(2):
        # The first reply (of this bot's life, or of this test) may learn it; the second not.
        paths.clear()
        mark = alice.mark()
        question = await alice.send_text(synapse.public_room_id, "!intra aide")
        await alice.reply_to(question, after=mark)
    # Only this room's sends count: the shared bot may be delivering an earlier test's
    # personal message to an encrypted DM room at the same moment.
    room = quote(synapse.public_room_id, safe="")
    sends = [p for p in paths if "/send/" in p and room in p]
    assert len(sends) == 1, paths
    assert not [p for p in paths if "m.room.encryption" in p], paths
    state = bot.adapter.client.state_store  # type: ignore[union-attr]
    assert await state.is_encrypted(synapse.public_room_id) is False
