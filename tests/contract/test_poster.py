"""Reminders' channel poster against a local scripted server: a marker in, the post found."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.adapters.mattermost.poster import MARKER_PROP, MattermostChannelPoster
from tests.contract.fake_rest import FakeRest, serving

PUBLIC = {"id": "chan-pub", "name": "domaine-intrapreneurs", "display_name": "Intrapreneurs", "type": "O", "team_id": "team1"}  # fmt: skip
SINCE = dt.datetime(2026, 12, 2, 8, 29, tzinfo=dt.UTC)


@pytest.fixture
async def world() -> AsyncIterator[tuple[FakeRest, MattermostChannelPoster]]:
    async with serving() as (fake, api):
        fake.on("GET", "/teams/team1/channels/name/domaine-intrapreneurs", (200, PUBLIC))
        yield fake, MattermostChannelPoster(api, "team1")


async def test_a_marked_post_carries_its_marker(world) -> None:  # type: ignore[no-untyped-def]
    fake, poster = world
    fake.on("POST", "/posts", (201, {"id": "post-1"}))
    post_id = await poster.post_marked("domaine-intrapreneurs", "Rappel", "reminder:j-1@x")
    assert post_id == "post-1"
    assert fake.calls[-1].body == {
        "channel_id": "chan-pub",
        "message": "Rappel",
        "props": {MARKER_PROP: "reminder:j-1@x"},
    }
    await poster.post_marked("domaine-intrapreneurs", "Rappel 2", "reminder:h-1@x")
    assert fake.paths().count("/teams/team1/channels/name/domaine-intrapreneurs") == 1


SINCE_MS = int(SINCE.timestamp() * 1000)


def post(post_id: str, marker: str | None, deleted: int = 0, age_ms: int = 0) -> dict[str, object]:
    props = {MARKER_PROP: marker} if marker else {}
    created = SINCE_MS + 60_000 - age_ms
    return {
        "id": post_id,
        "message": "m",
        "props": props,
        "delete_at": deleted,
        "create_at": created,
    }


def page(*posts: dict[str, object]) -> tuple[int, dict[str, object]]:
    """GET /channels/{id}/posts: `order` newest first, `posts` by id."""
    return 200, {"order": [p["id"] for p in posts], "posts": {p["id"]: p for p in posts}}


async def test_the_marked_post_is_found_since_the_given_instant(world) -> None:  # type: ignore[no-untyped-def]
    fake, poster = world
    fake.on("GET", "/channels/chan-pub/posts", page(post("p0", None), post("p1", "reminder:other", age_ms=1), post("p2", "reminder:j-1@x", age_ms=2)))  # fmt: skip
    found = await poster.find_marked("domaine-intrapreneurs", "reminder:j-1@x", SINCE)
    assert found == "p2"
    assert fake.calls[-1].query == {"per_page": "200", "skipFetchThreads": "true"}


async def test_a_marked_post_older_than_the_instant_is_not_found(world) -> None:  # type: ignore[no-untyped-def]
    fake, poster = world
    fake.on("GET", "/channels/chan-pub/posts", page(post("p0", None), post("p1", "reminder:j-1@x", age_ms=120_000)))  # fmt: skip
    assert await poster.find_marked("domaine-intrapreneurs", "reminder:j-1@x", SINCE) is None


async def test_a_deleted_or_missing_marked_post_is_not_found(world) -> None:  # type: ignore[no-untyped-def]
    fake, poster = world
    fake.on("GET", "/channels/chan-pub/posts", page(post("p1", "reminder:j-1@x", deleted=1764664000000), post("p2", "reminder:h-1@x", age_ms=1)))  # fmt: skip
    assert await poster.find_marked("domaine-intrapreneurs", "reminder:j-1@x", SINCE) is None
    fake.on("GET", "/channels/chan-pub/posts", page())
    assert await poster.find_marked("domaine-intrapreneurs", "reminder:j-1@x", SINCE) is None
