"""One person's data on a real store with several people's: export finds all of theirs,
forget erases theirs and nobody else's (`intra-bot export|forget`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot.answers.stats import invitation_figures
from bot.chat import User
from bot.config import Settings
from bot.greeter import WELCOME
from bot.invitations.effects import NOTICE, outcome_effects
from bot.invitations.personal import InvitationsKeeper, ReferentPinsKeeper
from bot.invitations.records import InvitationRecords
from bot.invitations.referents import referent_accounts
from bot.outbox.personal import OutboxKeeper
from bot.outbox.store import Effect, OutboxStore
from bot.personal_data.model import (
    BadPerson,
    Keeper,
    export_all,
    forget_all,
    parse_person,
    resolve,
)
from bot.personal_data.unlinked import UnlinkedRecords
from bot.store import Store

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
ALICE = "a" * 26
BOB = "b" * 26
REFERENT = "r" * 26


def notice(invitation_id: str, who: User) -> Effect:
    """The notice of a request sent to the referent by DM, as bot/invitations/effects.py
    queues it: the requester's name and position in its payload."""
    about = {"id": invitation_id, "full_name": who.full_name, "position": who.position}
    return Effect(
        f"invitation:{invitation_id}:notice:@referent",
        NOTICE,
        {**about, "platform": "mattermost", "username": "referent", "user_id": REFERENT},
    )


@dataclass
class World:
    store: Store
    records: InvitationRecords
    outbox: OutboxStore
    keepers: list[Keeper]
    alice_declined: str
    alice_open: str
    bob_open: str


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Alice asked twice (declined by the referent, then open again); Bob asked once;
    both were welcomed; notices went to the referent by DM."""
    store = Store.open(f"sqlite:///{tmp_path}/bot.db")
    records = InvitationRecords(store)
    outbox = OutboxStore(store)
    alice = User(ALICE, "alice", "Alice Martin", "Cheffe de projet")
    bob = User(BOB, "bob", "Bob Durand", "Développeur")

    def ask(who: User, message: str, at: dt.datetime) -> str:
        made = records.create(
            who.id,
            who.username,
            message,
            at,
            effects=lambda new_id: [notice(new_id, who)],
        )
        assert made is not None
        return made.id

    declined = ask(alice, "Je suis intra à la DINUM", NOW - dt.timedelta(days=40))
    first = records.get(declined)
    assert first is not None
    assert records.begin(
        declined,
        False,
        "referent",
        REFERENT,
        NOW - dt.timedelta(days=39),
        reason="pas encore intra",
        effects=outcome_effects(first, "declined", "Votre demande a été refusée."),
    )
    alice_open = ask(alice, "Je le suis maintenant", NOW - dt.timedelta(days=2))
    bob_open = ask(bob, "Bonjour, intra au ministère", NOW - dt.timedelta(days=1))
    for who in (ALICE, BOB):
        outbox.add(
            Effect(f"welcome:{who}", WELCOME, {"user_id": who, "platform": "mattermost"}), NOW
        )
    keepers: list[Keeper] = [
        InvitationsKeeper(store),
        ReferentPinsKeeper(store),
        OutboxKeeper(store),
        UnlinkedRecords(Settings()),
    ]
    with store.engine.begin() as connection:  # `intra-bot setup` pinned the referent's account
        connection.execute(
            insert(referent_accounts).values(
                platform="mattermost", account="referent", user_id=REFERENT, pinned_at=NOW
            )
        )
    yield World(store, records, outbox, keepers, declined, alice_open, bob_open)
    store.close()


async def test_export_by_id_holds_all_of_alices_rows_and_none_of_bobs(world: World) -> None:
    person = await resolve(ALICE, world.keepers)
    data = await export_all(person, world.keepers)
    assert data["person"]["usernames"] == ["alice"]
    asked = data["records"]["invitations"]
    assert {row["id"] for row in asked} == {world.alice_declined, world.alice_open}
    assert {row["message"] for row in asked} == {
        "Je suis intra à la DINUM",
        "Je le suis maintenant",
    }
    keys = {row["key"] for row in data["records"]["outbox"]}
    assert f"welcome:{ALICE}" in keys
    assert f"invitation:{world.alice_declined}:tell:declined" in keys
    assert f"invitation:{world.alice_open}:notice:@referent" in keys
    assert not any(BOB in key or world.bob_open in key for key in keys)
    notice = next(r for r in data["records"]["outbox"] if r["key"].endswith("notice:@referent"))
    assert notice["payload"]["full_name"] == "Alice Martin"
    assert "Bob" not in str(data)


async def test_forget_by_username_erases_alice_and_leaves_bob_whole(world: World) -> None:
    person = await resolve("@alice", world.keepers)
    assert person.ids == {ALICE}
    lines = [o.line() for o in await forget_all(person, world.keepers)]
    assert "invitations: 1 open requests deleted" in lines
    assert "invitations: 1 decided requests anonymised (kept for counts)" in lines
    assert any(line.startswith("outbox: 5 rows deleted") for line in lines), lines

    assert world.records.get(world.alice_open) is None
    kept = world.records.get(world.alice_declined)
    assert kept is not None and kept.state == "declined"
    assert ALICE not in kept.requester_id
    assert (kept.requester_username, kept.message, kept.reason, kept.notices) == ("", "", "", ())
    assert world.records.open_for(ALICE) is None and world.records.last_declined(ALICE) is None
    assert not [k for k in world.outbox.states() if ALICE in k or world.alice_open in k]
    assert not [k for k in world.outbox.states() if world.alice_declined in k]

    bob = world.records.get(world.bob_open)
    assert bob is not None and bob.message == "Bonjour, intra au ministère"
    assert set(world.outbox.states()) == {
        f"welcome:{BOB}",
        f"invitation:{world.bob_open}:notice:@referent",
    }
    again = await export_all(await resolve(ALICE, world.keepers), world.keepers)
    assert again["records"]["invitations"] == [] and again["records"]["outbox"] == []


async def test_forgetting_a_requester_keeps_the_figures_of_intra_stats(world: World) -> None:
    since, until = NOW - dt.timedelta(days=60), NOW + dt.timedelta(days=1)
    before = invitation_figures(world.store, since, until)
    await forget_all(await resolve(ALICE, world.keepers), world.keepers)
    after = invitation_figures(world.store, since, until)
    assert after.declined == before.declined == 1
    assert after.pending_now == before.pending_now - 1  # her open request is withdrawn


async def test_a_referent_is_unsigned_from_decisions_and_their_notices_erased(
    world: World,
) -> None:
    person = await resolve("referent", world.keepers)
    assert person.ids == {REFERENT}
    exported = await export_all(person, world.keepers)
    decisions = exported["records"]["invitation_decisions"]
    assert [d["id"] for d in decisions] == [world.alice_declined]
    assert "message" not in decisions[0] and "Je suis" not in str(decisions)
    # The notices they received are theirs, without the requesters' names.
    received = exported["records"]["outbox"]
    assert len(received) == 3 and "Alice Martin" not in str(received)

    assert [p["account"] for p in exported["records"]["referent_accounts"]] == ["referent"]

    lines = [o.line() for o in await forget_all(person, world.keepers)]
    assert lines[3].startswith("referent_accounts: 1 referent pins deleted"), lines
    declined = world.records.get(world.alice_declined)
    assert declined is not None
    assert (declined.decided_by, declined.decided_by_id, declined.reason) == (
        "",
        "",
        "pas encore intra",
    )
    assert declined.requester_id == ALICE  # Alice's own data is hers to erase
    assert [k for k in world.outbox.states() if k.endswith("@referent")] == []
    assert f"welcome:{ALICE}" in world.outbox.states()


async def test_a_referent_pinned_but_who_decided_nothing_is_found_by_username(
    tmp_path: Path,
) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/pins.db")
    keeper = ReferentPinsKeeper(store)
    with store.engine.begin() as connection:
        connection.execute(
            insert(referent_accounts).values(
                platform="mattermost", account="marine", user_id=REFERENT, pinned_at=NOW
            )
        )
    person = await resolve("marine", [keeper])
    assert person.ids == {REFERENT}
    assert [o.count for o in await forget_all(person, [keeper])] == [1]
    store.close()


async def test_a_username_the_store_cannot_link_to_an_id_is_refused(world: World) -> None:
    with pytest.raises(BadPerson, match="Mattermost user id instead"):
        await resolve("nobody", world.keepers)


async def test_an_unknown_id_exports_nothing_and_forgets_nothing(world: World) -> None:
    person = await resolve("z" * 26, world.keepers)
    data = await export_all(person, world.keepers)
    assert all(rows == [] for rows in data["records"].values())
    assert all(o.count == 0 for o in await forget_all(person, world.keepers))


@pytest.mark.parametrize("text", ["", "  ", "two words", "a/b", "@:server", "x" * 80])
def test_what_names_nobody_is_refused(text: str) -> None:
    with pytest.raises(BadPerson):
        parse_person(text)


def test_ids_and_usernames_are_told_apart() -> None:
    assert parse_person("@alice:agent.tchap.gouv.fr").ids == {"@alice:agent.tchap.gouv.fr"}
    assert parse_person("@alice").ids == frozenset()
    assert parse_person("@alice").usernames == {"alice"}
    assert parse_person(ALICE).ids == {ALICE}
