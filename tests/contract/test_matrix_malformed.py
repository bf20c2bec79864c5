"""A message whose decrypted content has a shape the bot cannot read (« "msgtype":
["m.text"] », a body that is no text, a broken relation, a payload without content) is one
WARNING line with its event id: no traceback, no answer, and not counted as undecryptable
in /healthz (that count is for room keys that never arrived)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from mautrix.errors import DecryptedPayloadError
from mautrix.types import EncryptedEvent, Event, MessageEvent

from bot.adapters.matrix.events import MatrixEventRouter
from bot.store import Store
from tests.contract.test_matrix_router import ROOM, FakeClient, router

ALICE = "@alice:agent.dinum.tchap.gouv.fr"
SHAPES: list[Any] = [
    {"msgtype": ["m.text"], "body": "aide"},
    {"body": 5},
    {"msgtype": "m.text", "body": ["aide"], "m.relates_to": {"m.in_reply_to": {"event_id": "$q"}}},
    {"msgtype": "m.text", "body": "aide", "m.relates_to": "broken"},
    DecryptedPayloadError("Megolm payload is missing fields"),
]


class FakeCrypto:
    """Decrypts as mautrix does: the payload's content through `Event.deserialize`."""

    def __init__(self, content: Any) -> None:
        self.content = content

    async def decrypt_megolm_event(self, evt: EncryptedEvent) -> Event:
        if isinstance(self.content, Exception):
            raise self.content
        return Event.deserialize(
            {"room_id": str(evt.room_id), "event_id": str(evt.event_id), "sender": ALICE,
             "origin_server_ts": 1, "type": "m.room.message", "content": self.content}
        )  # fmt: skip


def encrypted(event_id: str) -> EncryptedEvent:
    return EncryptedEvent.deserialize(
        {"type": "m.room.encrypted", "room_id": ROOM, "sender": ALICE, "event_id": event_id,
         "origin_server_ts": 1,
         "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA",
                     "session_id": "s", "sender_key": "k", "device_id": "D"}}
    )  # fmt: skip


def make(store: Store, content: Any) -> tuple[FakeClient, MatrixEventRouter]:
    client = FakeClient()
    client.crypto = FakeCrypto(content)  # type: ignore[assignment]
    return client, router(client, store, {"agent.dinum.tchap.gouv.fr"})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")


def assert_one_warning_line(caplog: pytest.LogCaptureFixture, event_id: str) -> None:
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelno for r in records] == [logging.WARNING], caplog.text
    assert records[0].exc_info is None
    line = records[0].getMessage()
    assert line.startswith("event=matrix_unsupported_content") and event_id in line
    assert "\n" not in line


@pytest.mark.parametrize(
    "content",
    SHAPES,
    ids=["msgtype-list", "no-msgtype", "body-list-reply", "relation-str", "no-content"],
)
async def test_a_malformed_encrypted_message_is_one_warning_line_not_undecryptable(
    store: Store, content: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client, bot = make(store, content)
    with caplog.at_level(logging.INFO):
        await bot.on_encrypted(encrypted("$bad"))
    assert client.sent == []
    assert bot.undecryptable == 0
    assert_one_warning_line(caplog, "$bad")


async def test_a_well_formed_encrypted_message_is_still_answered(store: Store) -> None:
    client, bot = make(store, {"msgtype": "m.text", "body": "référents"})
    await bot.on_encrypted(encrypted("$good"))
    assert len(client.sent) == 1 and bot.undecryptable == 0


async def test_a_malformed_message_in_clear_is_one_warning_line(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    client, bot = make(store, None)
    event = MessageEvent.deserialize(
        {"type": "m.room.message", "room_id": ROOM, "sender": ALICE, "event_id": "$clear",
         "origin_server_ts": 1, "content": {"msgtype": ["m.text"], "body": "aide"}}
    )  # fmt: skip
    with caplog.at_level(logging.INFO):
        await bot.on_message(event)
    assert client.sent == []
    assert_one_warning_line(caplog, "$clear")
