"""When a subscriber's club notice is due, quiet hours, and the words of « prevenez-moi »."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.answers.topic_actions import STOP, SUBSCRIBE, topic_action
from bot.club.agenda import Occurrence
from bot.subscriptions.club_notices import NoticeTiming, due, notice_key, notice_time
from bot.subscriptions.quiet import QuietHours, release_time

PARIS = ZoneInfo("Europe/Paris")
DAY_BEFORE = NoticeTiming(dt.timedelta(days=1), dt.time(17, 0))


def club(day: dt.date, hour: int = 16) -> Occurrence:
    start = dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS)
    return Occurrence(start, start + dt.timedelta(hours=1), "au forum")


def test_the_notice_is_the_day_before_at_the_configured_hour_across_the_clock_change() -> None:
    # Thursday 2 April 2026; Paris went to summer time on Sunday 29 March.
    assert notice_time(club(dt.date(2026, 4, 2)), DAY_BEFORE, PARIS) == dt.datetime(
        2026, 4, 1, 17, 0, tzinfo=PARIS
    )
    # Monday 30 March, the day after the change: 17 h on Sunday, in winter time then.
    sunday = notice_time(club(dt.date(2026, 3, 30)), DAY_BEFORE, PARIS)
    assert sunday.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 15, 0, tzinfo=dt.UTC)


def test_a_notice_in_minutes_is_elapsed_time_before_the_start() -> None:
    timing = NoticeTiming(dt.timedelta(minutes=2), None)
    occurrence = club(dt.date(2026, 12, 3))
    assert occurrence.start - notice_time(occurrence, timing, PARIS) == dt.timedelta(minutes=2)


def test_a_notice_is_due_from_its_time_within_the_grace_and_before_the_club() -> None:
    occurrence = club(dt.date(2026, 12, 3))
    grace = dt.timedelta(hours=6)
    at = dt.datetime(2026, 12, 2, 17, 0, tzinfo=PARIS)
    assert due([occurrence], at - dt.timedelta(seconds=1), DAY_BEFORE, PARIS, grace) == []
    assert due([occurrence], at, DAY_BEFORE, PARIS, grace) == [occurrence]
    assert due([occurrence], at + grace, DAY_BEFORE, PARIS, grace) == [occurrence]
    assert due([occurrence], at + grace + dt.timedelta(seconds=1), DAY_BEFORE, PARIS, grace) == []
    # A notice due after the club started is never sent (« 1j » to a club moved to today).
    late = NoticeTiming(dt.timedelta(0), dt.time(18, 0))
    assert due([occurrence], occurrence.start, late, PARIS, dt.timedelta(days=2)) == []


def test_each_person_platform_and_occurrence_has_its_own_key() -> None:
    keys = {
        notice_key("mattermost", "u1", "2026-12-03"),
        notice_key("matrix", "u1", "2026-12-03"),
        notice_key("mattermost", "u2", "2026-12-03"),
        notice_key("mattermost", "u1", "2027-01-07"),
    }
    assert len(keys) == 4
    assert notice_key("mattermost", "u1", "2026-12-03") == notice_key(
        "mattermost", "u1", "2026-12-03"
    )
    # A Matrix id may be 255 characters: the outbox key stays within its column.
    assert len(notice_key("matrix", "@" + "x" * 250 + ":tchap", "feed:" + "u" * 80)) < 200


QUIET = QuietHours(dt.time(20, 0), dt.time(8, 30), True, PARIS)


def test_quiet_hours_hold_a_message_until_the_morning_unless_the_event_is_the_next_day() -> None:
    tuesday_night = dt.datetime(2026, 12, 1, 22, 0, tzinfo=PARIS)
    in_a_week = tuesday_night + dt.timedelta(days=7)
    assert release_time(tuesday_night, QUIET, in_a_week) == dt.datetime(
        2026, 12, 2, 8, 30, tzinfo=PARIS
    )
    tomorrow = tuesday_night + dt.timedelta(hours=18)
    assert release_time(tuesday_night, QUIET, tomorrow) == tuesday_night
    afternoon = dt.datetime(2026, 12, 1, 15, 0, tzinfo=PARIS)
    assert release_time(afternoon, QUIET, in_a_week) == afternoon


def test_a_weekend_message_waits_for_monday_morning() -> None:
    saturday = dt.datetime(2026, 12, 5, 11, 0, tzinfo=PARIS)
    friday_night = dt.datetime(2026, 12, 4, 21, 0, tzinfo=PARIS)
    monday = dt.datetime(2026, 12, 7, 8, 30, tzinfo=PARIS)
    assert release_time(saturday, QUIET) == monday
    assert release_time(friday_night, QUIET) == monday
    off = QuietHours(dt.time(20, 0), dt.time(8, 30), True, PARIS, enabled=False)
    assert release_time(saturday, off) == saturday


def test_the_words_after_a_topic_that_subscribe_or_stop() -> None:
    for words in ("prevenez-moi", "Prévenez-moi !", "prévenez moi", "m’abonner"):
        assert topic_action("club", words) == SUBSCRIBE, words
    assert topic_action("certification", "stop") == STOP
    assert topic_action("club", "Me désabonner") == STOP
    # Only the topics one can subscribe to; a question about the club is still a question.
    assert topic_action("referents", "stop") is None
    assert topic_action("club", "prevenez-moi du prochain forum") is None
    assert topic_action("club", "horaires") is None
