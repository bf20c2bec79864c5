"""The club service: feed wins, a broken feed falls back, /intra club lists the next dates."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import httpx
import pytest

from bot.answers.answer import answer
from bot.chat import Message, User
from bot.club.service import ClubService
from bot.content.errors import ContentError
from bot.content.loader import ContentSource, load_content
from bot.content.units import section_id
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


def club_reply(now: dt.datetime, subscribe_url: str = "") -> str:
    import asyncio

    club = ClubService(
        ContentSource(), None, owner="t", clock=lambda: now, subscribe_url=subscribe_url
    )
    return asyncio.run(club.reply(Message("club", User("u", "a"), "c"), "")).text


def flat(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_club_reply_lists_three_dates_and_links() -> None:
    text = flat(club_reply(NOW, subscribe_url="https://bot.example/club.ics"))
    assert "**Le prochain club** : jeudi 5 février, de 16 h à 17 h (prévu)" in text
    assert "- jeudi 5 mars, de 16 h à 17 h (prévu)" in text
    assert "- jeudi 2 avril, de 16 h à 17 h (prévu)" in text
    assert "https://bot.example/club.ics" in text
    assert ContentSource().current.club.agenda_url in text


def test_club_dates_carry_the_year_when_it_is_not_this_one() -> None:
    text = flat(club_reply(dt.datetime(2026, 11, 29, 8, tzinfo=dt.UTC)))
    assert "**Le prochain club** : jeudi 3 décembre, de 16 h" in text
    assert "- jeudi 7 janvier 2027, de 16 h" in text and "- jeudi 4 février 2027, de 16 h" in text
    # New Year's Eve in Paris is already the next year: « 2027 » is not shown any more.
    text = flat(club_reply(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)))
    assert "**Le prochain club** : jeudi 7 janvier, de 16 h" in text


def test_moved_date_is_flagged_and_not_planned() -> None:
    text = flat(club_reply(dt.datetime(2025, 11, 20, tzinfo=dt.UTC)))
    first = next(line for line in text.splitlines() if line.startswith("**Le prochain club**"))
    assert "mercredi 3 décembre" in first and "(au lieu du jeudi 4 décembre)" in first
    assert "prévu" not in first  # an editor wrote this date down
    assert "- jeudi 1er janvier 2026, de 16 h à 17 h (prévu)" in text


async def test_dates_from_the_feed_are_not_planned(content_copy: Path, tmp_path: Path) -> None:
    source = with_feed(content_copy)
    club = service(source, tmp_path, [FEED])
    await club.refresh_feed()
    text = flat((await club.reply(Message("club", User("u", "a"), "c"), "")).text)
    assert "**Le prochain club** : jeudi 5 février, de 16 h à 17 h, Ségur" in text
    assert "prévu" not in text


@pytest.mark.parametrize(
    "now",
    [NOW, dt.datetime(2025, 11, 20, tzinfo=dt.UTC), dt.datetime(2026, 11, 29, tzinfo=dt.UTC)],
)
def test_club_reply_is_short_with_the_agenda_first_and_the_sections(now: dt.datetime) -> None:
    text = club_reply(now, subscribe_url="https://intra-bot.example.gouv.fr/club.ics")
    club = ContentSource().current.club
    assert len(text) <= 1200, len(text)
    assert text.index(club.agenda_url) + len(club.agenda_url) <= 600
    assert "«\u00a0prévue\u00a0»" in text  # typeset: no line break inside the quotes
    for section in club.sections:
        assert f"`/intra club {section_id(section)}` :" in flat(text), section.title


def test_club_sections_and_the_agenda_are_answerable() -> None:
    content = ContentSource().current
    for question in ("/intra club agenda", "où trouver l'agenda de la communauté ?"):
        assert content.club.agenda_url in answer(question, content).text[:600], question
    assert "salon « Domaine-intras »" in flat(answer("/intra club prevenu", content).text)
    assert "de 10 h à 18 h" in flat(answer("/intra club forum", content).text)
    assert "deux forums dédiés" in flat(answer("combien de forums intras par an ?", content).text)


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


def test_the_editors_preview_marks_the_planned_dates_only() -> None:
    from bot.club.preview import preview

    content = ContentSource().current
    shown = preview(content, count=2, now=dt.datetime(2025, 11, 20, tzinfo=dt.UTC))
    december, january = [line for line in shown.splitlines() if not line.startswith(" ")][:2]
    assert "mercredi 3 décembre 2025" in december and "(prévu)" not in december
    assert "jeudi 1er janvier 2026" in january and "(prévu)" in january
    assert shown.splitlines()[-1].startswith("« prévu » : date donnée par la règle seule")


async def test_a_failing_private_feed_shows_a_reason_never_its_address_or_token(
    content_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with_feed(content_copy)  # then the same feed, private: its URL carries a token
    club_yaml = content_copy / "club.yaml"
    private = "https://agenda.example/feed.ics?token=s3cr3t"
    club_yaml.write_text(
        club_yaml.read_text(encoding="utf-8").replace("https://agenda.example/feed.ics", private),
        encoding="utf-8",
    )
    source = ContentSource(content_copy)
    request = httpx.Request("GET", private)
    failures: list[bytes | Exception] = [
        httpx.ConnectError(f"cannot reach {private}", request=request),
        httpx.HTTPStatusError(
            f"404 for url {private}", request=request, response=httpx.Response(404, request=request)
        ),
        b"garbage",
    ]
    club = service(source, tmp_path, failures)
    reasons = []
    with caplog.at_level(logging.INFO, logger="bot.club.service"):
        for _ in range(3):
            await club.refresh_feed()
            reasons.append(club.feed_status.last_error)
    assert reasons == [
        "the feed could not be fetched (ConnectError)",
        "the feed's server answered HTTP 404",
        "the feed is not a usable calendar",
    ]
    assert "s3cr3t" not in caplog.text and "url=https://agenda.example/feed.ics?…" in caplog.text
