"""The room state cache remembers a plain room as plain, never over an encrypted one."""

from __future__ import annotations

from pathlib import Path

from mautrix.types import EncryptionAlgorithm, RoomEncryptionStateEventContent, RoomID

from bot.adapters.matrix.stores import MatrixStores

PLAIN = RoomID("!plain:example.org")
SECRET = RoomID("!secret:example.org")


async def test_plain_is_remembered_and_encrypted_is_never_undone(tmp_path: Path) -> None:
    stores = await MatrixStores.open(f"sqlite:{tmp_path / 'm.sqlite3'}", "@bot:example.org", "k")
    try:
        state = stores.state
        assert await state.is_encrypted(PLAIN) is None  # unknown: mautrix would fetch it
        await state.set_unencrypted(PLAIN)
        assert await state.is_encrypted(PLAIN) is False

        await state.set_encryption_info(
            SECRET, RoomEncryptionStateEventContent(EncryptionAlgorithm.MEGOLM_V1)
        )
        await state.set_unencrypted(SECRET)  # a stale 404 after the room turned encrypted
        assert await state.is_encrypted(SECRET) is True

        # A plain room that turns encrypted later is encrypted from then on.
        await state.set_encryption_info(
            PLAIN, RoomEncryptionStateEventContent(EncryptionAlgorithm.MEGOLM_V1)
        )
        assert await state.is_encrypted(PLAIN) is True
    finally:
        await stores.close()
