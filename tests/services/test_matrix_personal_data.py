"""One Matrix person's data: their DM room record, the choices of notices about their
requests, and mautrix's room state cache about them, on a real crypto store file."""

from __future__ import annotations

import json
from pathlib import Path

from mautrix.types import (
    EncryptionAlgorithm,
    Member,
    Membership,
    RoomEncryptionStateEventContent,
    RoomID,
    UserID,
)

from bot.adapters.matrix.personal import MatrixKeeper
from bot.adapters.matrix.stores import MatrixStores
from bot.personal_data.model import Person
from bot.store import Store

BOT = "@intra-bot:agent.tchap.gouv.fr"
CAROL = "@carol.petit-finances.gouv.fr:agent.finances.tchap.gouv.fr"
DAVE = "@dave:agent.tchap.gouv.fr"
ROOM = RoomID("!private:agent.tchap.gouv.fr")


async def seeded(tmp_path: Path) -> tuple[Store, str]:
    store = Store.open(f"sqlite:///{tmp_path}/bot.db")
    store.set_value(f"matrix.dm:{BOT}:{CAROL}", "!dm-carol:agent.tchap.gouv.fr")
    store.set_value(f"matrix.dm:{BOT}:{DAVE}", "!dm-dave:agent.tchap.gouv.fr")
    store.set_value("matrix.choices:$notice-carol", json.dumps({"✅": ["accept", "inv-carol"]}))
    store.set_value("matrix.choices:$notice-dave", json.dumps({"✅": ["accept", "inv-dave"]}))
    store.set_value(f"matrix.session:{BOT}", json.dumps({"access_token": "t", "device_id": "D"}))
    url = f"sqlite:{tmp_path}/bot-matrix.sqlite3"
    stores = await MatrixStores.open(url, BOT, "pickle")
    try:
        encrypted = RoomEncryptionStateEventContent(algorithm=EncryptionAlgorithm.MEGOLM_V1)
        await stores.state.set_encryption_info(ROOM, encrypted)
        await stores.state.set_members(
            ROOM,
            {
                UserID(CAROL): Member(membership=Membership.JOIN, displayname="Carol Petit"),
                UserID(DAVE): Member(membership=Membership.JOIN, displayname="Dave"),
            },
        )
        assert await stores.state.has_full_member_list(ROOM)
    finally:
        await stores.close()
    return store, url


def carol() -> Person:
    return Person(CAROL, frozenset({CAROL}), frozenset({CAROL}), frozenset({"inv-carol"}))


async def test_export_shows_carols_dm_room_and_room_membership(tmp_path: Path) -> None:
    store, url = await seeded(tmp_path)
    exported = await MatrixKeeper(store, url).export(carol())
    assert [d["room_id"] for d in exported["kv_values (matrix DM rooms)"]] == [
        "!dm-carol:agent.tchap.gouv.fr"
    ]
    members = exported["mx_user_profile"]
    assert [(m["room_id"], m["displayname"]) for m in members] == [(ROOM, "Carol Petit")]


async def test_forget_erases_carol_only_and_makes_the_member_list_fetched_again(
    tmp_path: Path,
) -> None:
    store, url = await seeded(tmp_path)
    outcomes = await MatrixKeeper(store, url).forget(carol())
    assert [(o.table, o.count) for o in outcomes] == [
        ("kv_values", 1),
        ("kv_values", 1),
        ("mx_user_profile", 1),
    ]
    assert store.get_value(f"matrix.dm:{BOT}:{CAROL}") is None
    assert store.get_value("matrix.choices:$notice-carol") is None
    assert store.get_value(f"matrix.dm:{BOT}:{DAVE}") is not None
    assert store.get_value("matrix.choices:$notice-dave") is not None
    assert store.get_value(f"matrix.session:{BOT}") is not None
    stores = await MatrixStores.open(url, BOT, "pickle")
    try:
        assert await stores.state.get_member(ROOM, UserID(CAROL)) is None
        dave = await stores.state.get_member(ROOM, UserID(DAVE))
        assert dave is not None and dave.displayname == "Dave"
        # Believed complete without Carol, the list would leave her out of the room's keys.
        assert not await stores.state.has_full_member_list(ROOM)
    finally:
        await stores.close()


async def test_without_a_state_store_nothing_is_created(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/bot.db")
    missing = tmp_path / "none-matrix.sqlite3"
    outcomes = await MatrixKeeper(store, f"sqlite:{missing}").forget(carol())
    assert outcomes[-1].line() == "mx_user_profile: 0 rows: no Matrix state store"
    assert not missing.exists()
