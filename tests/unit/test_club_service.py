"""The club service: feed wins, a broken feed falls back, /intra club lists the next dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.chat import Message, User
from bot.club import ClubService
from bot.content import ContentSource, load_content
from bot.content_errors import ContentError
from tests.unit.test_agenda import FEED

NOW = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)


def with_feed(content_copy: Path) -> ContentSource:
    path = content_copy / "club.yaml"
    text = path.read_text(encoding="utf-8").replace(
        '  # feed:\n  #   url: https://exemple.gouv.fr/agenda.ics\n  #   match: "(?i)club intra|forum"',
        '  feed:\n    url: https://agenda.example/feed.ics\n    match: "(?i)club intras"',
    )
    assert "  feed:\n" in text
    path.write_text(text, encoding="utf-8")
    return ContentSource(content_copy)


def service(source: ContentSource, tmp_path: Path, fetched: list[bytes | Exception]) -> ClubService:
    from bot.store import Store

    async def fetch(_url: str) -> bytes:
        item = fetched.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return ClubService(
        source, Store.open(f"sqlite:///{tmp_path}/s.db"), owner="t", clock=lambda: NOW, fetch=fetch
    )


async def test_feed_wins_and_its_last_good_copy_survives_failures(
    content_copy: Path, tmp_path: Path
) -> None:
    club = service(with_feed(content_copy), tmp_path, [FEED, OSError("unreachable"), b"garbage"])
    assert club.occurrences(NOW)[0].source == "rule"  # nothing fetched yet
    await club.refresh_feed()
    first = next(o for o in club.occurrences(NOW) if o.end > NOW)
    assert first.source == "feed" and first.start.date() == dt.date(2026, 2, 5)
    await club.refresh_feed()  # network error
    await club.refresh_feed()  # invalid feed
    assert club.feed_status.ok is False and club.feed_status.last_error
    assert next(o for o in club.occurrences(NOW) if o.end > NOW).source == "feed"


async def test_unusable_cached_feed_falls_back_to_the_rule(
    content_copy: Path, tmp_path: Path
) -> None:
    club = service(with_feed(content_copy), tmp_path, [])
    assert club.store is not None
    club.store.set_value(
        "club_feed:https://agenda.example/feed.ics", '{"ics": "BEGIN:VCALENDAR\\nnope"}'
    )
    found = club.occurrences(NOW)
    assert found and all(o.source == "rule" for o in found)
    assert club.feed_status.using == "rule" and club.feed_status.ok is False


async def test_club_reply_lists_three_dates_and_links(tmp_path: Path) -> None:
    club = ClubService(
        ContentSource(),
        None,
        owner="t",
        clock=lambda: NOW,
        subscribe_url="https://bot.example/club.ics",
    )
    reply = await club.reply(Message("club", User("u", "alice"), "c"), "")
    assert "**Le prochain club** : jeudi 5 février, de 16 h à 17 h" in reply.text
    assert "jeudi 5 mars" in reply.text and "jeudi 2 avril" in reply.text
    assert "https://bot.example/club.ics" in reply.text
    assert club.club.agenda_url in reply.text


def test_moved_date_is_flagged_in_the_reply() -> None:
    december = dt.datetime(2025, 11, 20, tzinfo=dt.UTC)
    club = ClubService(ContentSource(), None, owner="t", clock=lambda: december)
    import asyncio

    reply = asyncio.run(club.reply(Message("club", User("u", "a"), "c"), ""))
    assert (
        "mercredi 3 décembre" in reply.text
        and "date déplacée (au lieu du jeudi 4 décembre)" in reply.text
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    before: 7j", "    before: sept jours", "durée invalide"),
        ("Club intras {quand}**", "Club intras {quant}**", "{quant}, inconnu"),
        ("    weekday: jeudi", "    weekday: jeudy", "valeurs possibles"),
        ('    start: "16:00"', '    start: "seize heures"', "heure"),
        ("      moved_to: 2025-12-03\n", "", "ne change rien"),
    ],
)
def test_club_content_errors_are_explained(
    content_copy: Path, old: str, new: str, message: str
) -> None:
    path = content_copy / "club.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_content(content_copy)
    shown = "\n".join(str(p) for p in caught.value.problems)
    assert "club.yaml, ligne" in shown and message in shown, shown
