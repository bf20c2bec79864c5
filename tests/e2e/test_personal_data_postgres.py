"""`intra-bot forget`'s erasers and the daily purges on a real PostgreSQL (the replicas'
store): the same SQL as on SQLite (string concatenation, prefixes, IN lists) must hold."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from bot import named_values
from bot.invitations.personal import InvitationsKeeper
from bot.invitations.records import InvitationRecords
from bot.outbox.personal import OutboxKeeper
from bot.outbox.store import Effect, OutboxStore
from bot.personal_data.model import Keeper, export_all, forget_all, resolve
from bot.store import Store
from tests.mattermost_server import MattermostServer

pytestmark = pytest.mark.e2e

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def store(mattermost: MattermostServer) -> Iterator[Store]:
    assert mattermost.pg_dsn, "scripts/mattermost.sh env gave no INTRA_BOT_TEST_PG_DSN"
    opened = Store.open(mattermost.pg_dsn)
    assert opened.engine.dialect.name == "postgresql"
    yield opened
    opened.close()


async def test_forget_anonymises_and_deletes_on_postgres(store: Store) -> None:
    records = InvitationRecords(store)
    outbox = OutboxStore(store)
    tag = uuid.uuid4().hex[:12]
    someone, other = f"pg-forget-{tag}", f"pg-keep-{tag}"
    first = records.create(someone, f"u{tag}", "premier message", NOW - dt.timedelta(days=3))
    assert first is not None
    assert records.begin(first.id, False, "referent", "ref-id", NOW, reason="motif")
    second = records.create(someone, f"u{tag}", "second message", NOW)
    kept = records.create(other, f"o{tag}", "à garder", NOW)
    assert second and kept
    outbox.add(Effect(f"welcome:{someone}", "mattermost.welcome", {"user_id": someone}), NOW)
    outbox.add(Effect(f"welcome:{other}", "mattermost.welcome", {"user_id": other}), NOW)
    keepers: list[Keeper] = [InvitationsKeeper(store), OutboxKeeper(store)]

    person = await resolve(f"u{tag}", keepers)
    assert person.ids == {someone}
    exported = await export_all(person, keepers)
    assert len(exported["records"]["invitations"]) == 2

    counts = [o.count for o in await forget_all(person, keepers)]
    assert counts == [1, 1, 0, 1]
    anonymised = records.get(first.id)
    assert anonymised is not None
    assert anonymised.requester_id == f"forgotten:{first.id}" and anonymised.message == ""
    assert records.get(second.id) is None
    assert records.get(kept.id) is not None
    assert set(outbox.states("welcome:pg-")) >= {f"welcome:{other}"}
    assert f"welcome:{someone}" not in outbox.states("welcome:pg-")


def test_stale_values_are_purged_by_prefix_on_postgres(store: Store) -> None:
    tag = uuid.uuid4().hex[:12]
    old, recent = f"matrix.choices:$old-{tag}", f"matrix.choices:$new-{tag}"
    store.set_value(old, "{}", now=NOW - dt.timedelta(days=400))
    store.set_value(recent, "{}", now=NOW)
    named_values.forget_before(store, "matrix.choices:", NOW - dt.timedelta(days=365))
    assert store.get_value(old) is None and store.get_value(recent) == "{}"
    assert [v.name for v in named_values.with_prefix(store, f"matrix.choices:$new-{tag}")] == [
        recent
    ]
