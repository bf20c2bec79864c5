"""The power levels `intra-bot setup --platform matrix` asks of the bot, from a room's levels."""

from __future__ import annotations

from bot.adapters.matrix.setup import needed_levels, power_checks, who_can_invite

BOT = "@intra-bot:example.org"


def test_an_empty_power_levels_event_takes_the_spec_defaults() -> None:
    assert needed_levels({}, private=True) == {
        "events.m.room.message": 0,
        "events.m.reaction": 0,
        "invite": 0,
    }
    assert "invite" not in needed_levels({}, private=False)


def test_an_announcement_room_needs_moderator_to_post_and_react() -> None:
    levels = {"events_default": 50, "users": {BOT: 0}}
    failed = [c for c in power_checks(levels, BOT, "!a:x", private=False) if not c.ok]
    assert [c.fix for c in failed] == [
        f"grant {BOT} power level 50 in !a:x (needs events.m.room.message=50)",
        f"grant {BOT} power level 50 in !a:x (needs events.m.reaction=50)",
    ]


def test_a_specific_event_level_wins_over_the_default() -> None:
    levels = {"events_default": 50, "events": {"m.reaction": 0, "m.room.message": 10}}
    assert needed_levels(levels, private=False) == {
        "events.m.room.message": 10,
        "events.m.reaction": 0,
    }


def test_the_private_room_checks_the_invite_level_against_users_default() -> None:
    levels = {"invite": 50, "users_default": 10, "users": {"@admin:x": 100}}
    checks = power_checks(levels, BOT, "!p:x", private=True)
    assert [c.ok for c in checks] == [True, True, False]
    assert checks[2].fix == f"grant {BOT} power level 50 in !p:x (needs invite=50)"
    assert all(
        c.ok for c in power_checks({**levels, "users": {BOT: 50}}, BOT, "!p:x", private=True)
    )


def test_who_can_invite_lists_the_users_at_or_above_the_invite_level() -> None:
    levels = {"invite": 50, "users": {"@a:x": 100, "@b:x": 50, "@c:x": 49}}
    assert who_can_invite(levels) == ["@a:x", "@b:x"]
