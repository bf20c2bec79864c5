"""The daily upkeep forgets what has outlived its configured retention, and nothing else:
requests left open, stale named values, finished outbox rows, claims of handled posts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answers.question_log import QuestionLog
from bot.config import ConfigError, Settings, load_settings
from bot.invitations.records import InvitationRecords
from bot.outbox.store import Effect, OutboxStore
from bot.retention import Retention
from bot.store import Store

NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path}/bot.db")
    yield opened
    opened.close()


def retention(on: Store, **sections: dict[str, float]) -> Retention:
    settings = Settings.model_validate(sections)
    return Retention(on, QuestionLog(on), OutboxStore(on), settings, lambda: NOW)


async def test_requests_left_open_past_their_retention_are_deleted(store: Store) -> None:
    records = InvitationRecords(store)
    old = records.create("u" * 26, "old", "il y a longtemps", NOW - 31 * DAY)
    recent = records.create("v" * 26, "recent", "hier", NOW - 29 * DAY)
    held = records.create("w" * 26, "held", "en cours", NOW - 60 * DAY)
    decided = records.create("x" * 26, "decided", "refusée", NOW - 60 * DAY)
    assert old and recent and held and decided
    assert records.begin(held.id, True, "ref", "r" * 26, NOW)  # being accepted right now
    assert records.begin(decided.id, False, "ref", "r" * 26, NOW - 50 * DAY)

    await retention(store, invitations={"pending_retention_days": 30}).forget_abandoned_requests(
        records
    )
    assert records.get(old.id) is None
    assert records.open_for("u" * 26) is None  # the person may ask again
    assert records.get(recent.id) is not None
    assert records.get(held.id) is not None
    assert records.get(decided.id) is not None  # decided ones follow retention_days


async def test_the_default_keeps_open_requests_ninety_days(store: Store) -> None:
    records = InvitationRecords(store)
    kept = records.create("v" * 26, "v", "", NOW - 89 * DAY)
    gone = records.create("u" * 26, "u", "", NOW - 91 * DAY)
    assert kept and gone
    await retention(store).forget_abandoned_requests(records)
    assert records.get(kept.id) is not None and records.get(gone.id) is None


async def test_only_stale_reaction_choices_are_forgotten_among_named_values(
    store: Store,
) -> None:
    long_ago = NOW - 400 * DAY
    for name in (
        "matrix.choices:$old",
        "matrix.session:@bot:s",
        "matrix.pickle_key:@bot:s",
        "matrix.cross_signing_claim:@bot:s",
        "matrix.sync_filter:@bot:s:abc",
        "mattermost:handled_until_ms",
        "club_feed:https://example.org/agenda.ics",
    ):
        store.set_value(name, "value", now=long_ago)
    store.set_value("matrix.choices:$recent", "{}", now=NOW - 300 * DAY)

    # The choices outlive the longer of the two invitation retentions (365 days by default).
    await retention(store).forget_stale_values()
    assert store.get_value("matrix.choices:$old") is None
    assert store.get_value("matrix.choices:$recent") == "{}"
    for kept in (
        "matrix.session:@bot:s",
        "matrix.pickle_key:@bot:s",
        "matrix.cross_signing_claim:@bot:s",
        "matrix.sync_filter:@bot:s:abc",
        "mattermost:handled_until_ms",
        "club_feed:https://example.org/agenda.ics",
    ):
        assert store.get_value(kept) == "value", kept

    await retention(store, invitations={"retention_days": 200}).forget_stale_values()
    assert store.get_value("matrix.choices:$recent") is None


async def test_finished_outbox_rows_follow_the_configured_retention(store: Store) -> None:
    outbox = OutboxStore(store)
    for key, age in (("welcome:old", 11), ("welcome:new", 9)):
        outbox.add(Effect(key, "mattermost.welcome", {"user_id": key}), NOW - age * DAY)
        job = outbox.claim(key, "me", NOW - age * DAY, dt.timedelta(seconds=60))
        assert job is not None and outbox.done(job, "me", NOW - age * DAY)
    outbox.add(Effect("welcome:waiting", "mattermost.welcome", {}), NOW - 40 * DAY)

    await retention(store, outbox={"retention_days": 10}).forget_finished_effects()
    assert set(outbox.states()) == {"welcome:new", "welcome:waiting"}


async def test_claims_of_handled_posts_follow_the_configured_retention(store: Store) -> None:
    assert store.claim_event("post:old", now=NOW - 8 * DAY)
    assert store.claim_event("post:new", now=NOW - 6 * DAY)
    await retention(store, store={"claims_retention_days": 7}).forget_answered_posts()
    assert store.claim_event("post:old", now=NOW)  # forgotten: a new claim wins
    assert not store.claim_event("post:new", now=NOW)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("invitations", "pending_retention_days"),
        ("invitations", "retention_days"),
        ("outbox", "retention_days"),
        ("store", "claims_retention_days"),
        ("answers", "retention_days"),
        ("matrix", "dm_retention_days"),
    ],
)
def test_a_negative_retention_is_refused_naming_the_key(
    tmp_path: Path, section: str, key: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[{section}]\n{key} = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"'{section}\.{key}': .*greater than or equal to 1"):
        load_settings(path, environ={})
