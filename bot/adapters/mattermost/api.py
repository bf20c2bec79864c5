"""The only place that knows the Mattermost driver (`mattermostautodriver`).

The rest of the adapter calls these few async methods and sees two errors:
`MattermostUnavailable` (no answer: retry later) and `MattermostApiError` (the server
said no: status, error id and message). 429 and 502/503/504 are retried by the driver
with exponential backoff, honouring `Retry-After`; a POST is only retried on 429,
because a POST that reached the server may already have taken effect.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
from mattermostautodriver import AsyncTypedDriver
from mattermostautodriver.exceptions import InvalidMattermostError, MattermostError

from bot.adapters.mattermost.deep_json import loads_page
from bot.adapters.mattermost.pages import read_back

log = logging.getLogger(__name__)

JSON = dict[str, Any]


class MattermostUnavailable(Exception):
    """Mattermost did not answer (down, restarting, network)."""


class MattermostApiError(Exception):
    """Mattermost answered with an error."""

    def __init__(self, status: int, error_id: str, message: str) -> None:
        super().__init__(f"{status} {error_id}: {message}")
        self.status = status
        self.error_id = error_id
        self.message = message


@dataclass(frozen=True)
class UserInfo:
    id: str
    username: str
    first_name: str = ""
    last_name: str = ""
    position: str = ""
    is_bot: bool = False
    delete_at: int = 0

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str
    display_name: str
    type: str
    team_id: str
    last_post_at: int = 0  # ms since the epoch, the server's clock


class MattermostApi:
    def __init__(
        self, url: str, token: str, *, timeout: float = 10.0, max_retries: int = 3
    ) -> None:
        parts = urlsplit(url)
        scheme = parts.scheme or "http"
        port = parts.port or (443 if scheme == "https" else 80)
        self.base_url = url.rstrip("/")
        self._driver = AsyncTypedDriver(
            {
                "url": parts.hostname or "localhost",
                "scheme": scheme,
                "port": port,
                "token": token,
                "timeout": timeout,
                "request_timeout": timeout,
                "max_retries": max_retries,
                "retry_max_sleep": 30,
            }
        )
        self._driver.client.token = token
        self.calls = 0  # REST calls made, for the benchmarks

    @property
    def websocket_url(self) -> str:
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{parts.path}/api/v4/websocket"

    async def close(self) -> None:
        await self._driver.client.close()

    async def _call(self, what: str, coroutine: Any) -> Any:
        self.calls += 1
        try:
            result = await coroutine
            if isinstance(result, httpx.Response):
                # The driver hands back the raw response unless the Content-Type is exactly
                # "application/json"; a proxy adding "; charset=utf-8" must not break us.
                return result.json()
            return result
        except MattermostError as error:
            raise MattermostApiError(
                int(getattr(error, "status_code", 0) or 0),
                str(getattr(error, "error_id", "") or ""),
                str(error),
            ) from None
        except InvalidMattermostError as error:
            raise MattermostApiError(error.status_code, "", f"{what}: unexpected answer") from None
        except ValueError:
            raise MattermostApiError(0, "", f"{what}: the answer is not JSON") from None
        except RecursionError:  # anyone can post props nested thousands of levels deep
            raise MattermostApiError(0, "", f"{what}: the answer is nested too deeply") from None
        except httpx.HTTPError as error:
            raise MattermostUnavailable(f"{what}: {error.__class__.__name__}: {error}") from None

    # -- users and teams ---------------------------------------------------------

    async def me(self) -> UserInfo:
        return _user(await self._call("users/me", self._driver.users.get_user("me")))

    async def user(self, user_id: str) -> UserInfo:
        return _user(await self._call("users/{id}", self._driver.users.get_user(user_id)))

    async def users_by_usernames(self, usernames: list[str]) -> dict[str, UserInfo]:
        found = await self._call(
            "users/usernames", self._driver.users.get_users_by_usernames(usernames)
        )
        return {item["username"]: _user(item) for item in cast(list[JSON], found)}

    async def team_id(self, name: str) -> str:
        team = await self._call("teams/name", self._driver.teams.get_team_by_name(name))
        return str(team["id"])

    async def channel(self, team_id: str, name: str) -> ChannelInfo:
        data = await self._call(
            "channels/name", self._driver.channels.get_channel_by_name(team_id, name)
        )
        return _channel(data)

    async def channel_roles(self, channel_id: str, user_id: str) -> set[str] | None:
        """The member's roles in the channel, or None if not a member."""
        try:
            member = await self._call(
                "channels/members", self._driver.channels.get_channel_member(channel_id, user_id)
            )
        except MattermostApiError as error:
            if error.status in (403, 404):
                return None
            raise
        roles = set(str(member.get("roles", "")).split())
        if member.get("scheme_admin"):
            roles.add("channel_admin")
        if member.get("scheme_user"):
            roles.add("channel_user")
        return roles

    async def my_channels(self) -> list[ChannelInfo]:
        """Every channel the bot is a member of, in every team, direct messages included."""
        data = await self._call(
            "users/me/channels", self._driver.client.get("/api/v4/users/me/channels")
        )
        return [_channel(item) for item in cast(list[JSON], data)]

    async def add_channel_member(self, channel_id: str, user_id: str) -> None:
        await self._call(
            "channels/members/add",
            self._driver.channels.add_channel_member(channel_id, user_id=user_id),
        )

    async def direct_channel(self, user_a: str, user_b: str) -> str:
        data = await self._call(
            "channels/direct", self._driver.channels.create_direct_channel([user_a, user_b])
        )
        return str(data["id"])

    # -- posts ------------------------------------------------------------------

    async def create_post(
        self, channel_id: str, message: str, *, root_id: str = "", props: JSON | None = None
    ) -> str:
        body: JSON = {"channel_id": channel_id, "message": message}
        if root_id:
            body["root_id"] = root_id
        if props:
            body["props"] = props
        data = await self._call(
            "posts/create", self._driver.client.post("/api/v4/posts", options=body)
        )
        return str(data["id"])

    async def update_post(self, post_id: str, message: str, props: JSON) -> None:
        body: JSON = {"id": post_id, "message": message, "props": props}
        await self._call(
            "posts/update", self._driver.client.put(f"/api/v4/posts/{post_id}", options=body)
        )

    async def posts_since(self, channel_id: str, since_ms: int) -> list[JSON]:
        """The channel's posts created at `since_ms` or later, newest first (bounded)."""

        async def page(params: JSON) -> JSON:
            path = f"/api/v4/channels/{channel_id}/posts"
            return cast(JSON, await self._call("channels/posts", self._page(path, params)))

        return await read_back(page, since_ms)

    async def _page(self, path: str, params: JSON) -> Any:
        """A page of posts; one post nested too deeply is left out, not the whole page."""
        response = await self._driver.client.make_request("get", path, params=params)
        data, dropped = loads_page(response.content)
        for post_id in dropped:
            log.warning("event=post_skipped reason=nested_too_deeply post_id=%s", post_id)
        return data

    # -- commands and dialogs ---------------------------------------------------

    async def list_commands(self, team_id: str) -> list[JSON]:
        data = await self._call(
            "commands/list", self._driver.commands.list_commands(team_id=team_id, custom_only=True)
        )
        return cast(list[JSON], data)

    async def create_command(self, command: JSON) -> JSON:
        return cast(
            JSON,
            await self._call(
                "commands/create", self._driver.client.post("/api/v4/commands", options=command)
            ),
        )

    async def update_command(self, command: JSON) -> JSON:
        return cast(
            JSON,
            await self._call(
                "commands/update",
                self._driver.client.put(f"/api/v4/commands/{command['id']}", options=command),
            ),
        )

    async def open_dialog(self, trigger_id: str, url: str, dialog: JSON) -> None:
        await self._call(
            "actions/dialogs/open",
            self._driver.integration_actions.open_interactive_dialog(trigger_id, url, dialog),
        )

    async def ping(self) -> bool:
        try:
            await self._call("system/ping", self._driver.client.get("/api/v4/system/ping"))
        except (MattermostUnavailable, MattermostApiError):
            return False
        return True


def _user(data: JSON) -> UserInfo:
    return UserInfo(
        id=str(data["id"]),
        username=str(data.get("username", "")),
        first_name=str(data.get("first_name", "") or ""),
        last_name=str(data.get("last_name", "") or ""),
        position=str(data.get("position", "") or ""),
        is_bot=bool(data.get("is_bot", False)),
        delete_at=int(data.get("delete_at", 0) or 0),
    )


def _channel(data: JSON) -> ChannelInfo:
    return ChannelInfo(
        id=str(data["id"]),
        name=str(data.get("name", "")),
        display_name=str(data.get("display_name", "")),
        type=str(data.get("type", "")),
        team_id=str(data.get("team_id", "")),
        last_post_at=int(data.get("last_post_at", 0) or 0),
    )
