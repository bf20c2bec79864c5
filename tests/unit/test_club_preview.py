"""`intra-bot club`: the editors' preview of the next clubs and their reminders, in French."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.club.preview import preview
from bot.content.loader import Content, load_content
from tests.services.test_club_service import with_feed

PARIS = ZoneInfo("Europe/Paris")
PLACE = "au forum mensuel beta.gouv.fr, en présentiel avec un accès à distance"
# Dates computed from the rule alone are marked, and the preview says once what that means.
PLANNED_NOTE = (
    "« prévu » : date donnée par la règle seule ; `/intra club` le dit aussi, "
    "l'agenda de la communauté fait foi."
)


def test_the_next_club_and_its_reminders_with_those_already_past(content: Content) -> None:
    now = dt.datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)
    assert preview(content, count=1, now=now).splitlines() == [
        f"jeudi 3 décembre 2026, 16 h–17 h, {PLACE} (prévu)",
        "  rappel « j-7 » : jeudi 26 novembre à 9 h 30 dans ~domaine-intrapreneurs (déjà passé)",
        "  rappel « j-1 » : mercredi 2 décembre à 9 h 30 dans ~domaine-intrapreneurs",
        "  rappel « h-1 » : jeudi 3 décembre à 15 h dans ~domaine-intrapreneurs",
        PLANNED_NOTE,
    ]


def test_a_reminder_due_exactly_now_is_already_past(content: Content) -> None:
    now = dt.datetime(2026, 12, 2, 9, 30, tzinfo=PARIS)
    lines = preview(content, count=1, now=now).splitlines()
    assert lines[2].endswith(
        "mercredi 2 décembre à 9 h 30 dans ~domaine-intrapreneurs (déjà passé)"
    )
    assert not lines[3].endswith("(déjà passé)")


def test_count_dates_in_order_and_none_when_zero(content: Content) -> None:
    now = dt.datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)
    rows = preview(content, count=3, now=now).splitlines()
    assert rows[-1] == PLANNED_NOTE
    heads = [line for line in rows[:-1] if line[:1] != " "]
    assert [head.split(",")[0] for head in heads] == [
        "jeudi 3 décembre 2026",
        "jeudi 7 janvier 2027",
        "jeudi 4 février 2027",
    ]
    assert preview(content, count=0, now=now) == "Aucune date à venir."


def test_a_moved_date_says_so_with_its_note(content: Content) -> None:
    now = dt.datetime(2025, 11, 27, 10, 0, tzinfo=PARIS)
    head = preview(content, count=1, now=now).splitlines()[0]
    assert head.startswith("mercredi 3 décembre 2025, 16 h–17 h, ")
    assert "(déplacé, au lieu du jeudi 4 décembre) — Forum sur l'intrapreneuriat public" in head


def test_the_texts_are_shown_indented_under_their_reminder(content: Content) -> None:
    now = dt.datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)
    lines = preview(content, count=1, show_text=True, public_url="https://bot.example/", now=now)
    rows = lines.splitlines()
    j1 = rows.index("  rappel « j-1 » : mercredi 2 décembre à 9 h 30 dans ~domaine-intrapreneurs")
    assert rows[j1 + 1].startswith("      ⏰ **Club intras demain**, jeudi 3 décembre à 16 h")
    assert rows[-1] == PLANNED_NOTE
    assert all(row.startswith(("  rappel", "      ")) for row in rows[1:-1])


def test_with_a_feed_the_preview_says_the_rule_is_the_fallback(content_copy: Path) -> None:
    source = with_feed(content_copy)
    text = preview(source.current, count=1, now=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    assert text.splitlines()[0] == (
        "Un agenda iCalendar est configuré (https://agenda.example/feed.ics) : le bot en service "
        "suit ses dates ; ci-dessous, les dates de la règle, utilisées s'il est injoignable."
    )
    assert text.splitlines()[1].startswith("jeudi 3 décembre 2026")


def test_without_a_clock_it_previews_from_now() -> None:
    head = preview(load_content(), count=1).splitlines()[0]
    year = dt.datetime.now(PARIS).year
    assert head.split()[0] in ("lundi", "mardi", "mercredi", "jeudi", "vendredi")
    assert head.split(",")[0].endswith((str(year), str(year + 1)))
