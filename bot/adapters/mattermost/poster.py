"""Posting to a channel by name, with a marker in the post's props (the reminders' part of the port)."""

from __future__ import annotations

import datetime as dt

from bot.adapters.mattermost.api import MattermostApi

MARKER_PROP = "intra_bot_marker"


class MattermostChannelPoster:
    def __init__(self, api: MattermostApi, team_id: str) -> None:
        self._api = api
        self._team_id = team_id
        self._ids: dict[str, str] = {}

    async def _channel_id(self, name: str) -> str:
        if name not in self._ids:
            self._ids[name] = (await self._api.channel(self._team_id, name)).id
        return self._ids[name]

    async def post_marked(self, channel_name: str, text: str, marker: str) -> str:
        channel_id = await self._channel_id(channel_name)
        return await self._api.create_post(channel_id, text, props={MARKER_PROP: marker})

    async def find_marked(self, channel_name: str, marker: str, since: dt.datetime) -> str | None:
        channel_id = await self._channel_id(channel_name)
        posts = await self._api.posts_since(channel_id, int(since.timestamp() * 1000))
        for post in posts:
            if (post.get("props") or {}).get(MARKER_PROP) == marker and not post.get("delete_at"):
                return str(post["id"])
        return None
