"""Mattermost behind the core's one port (`bot.chat.ChatPlatform`): marked posts for the
reminders, membership, profiles, DMs, post updates and the channel add for invitations."""

from __future__ import annotations

import datetime as dt
import logging

from bot.adapters.mattermost.api import (
    ChannelInfo,
    MattermostApi,
    MattermostApiError,
    MattermostUnavailable,
)
from bot.adapters.mattermost.poster import MARKER_PROP, MattermostChannelPoster
from bot.adapters.mattermost.render import SignedButtons, post_props
from bot.chat import AddFailed, Dialect, NoSuchUser, PlatformUnavailable, Reply, User
from bot.config import DEFAULT_PUBLIC_CHANNEL
from bot.invitations.texts import NOT_IN_TEAM, PLATFORM_UNAVAILABLE, add_refused, cannot_add

log = logging.getLogger(__name__)

# How far back a retried message looks for its own earlier copy (outbox leases are minutes).
RETRY_LOOKBACK = dt.timedelta(days=1)


class MattermostPlatform:
    """Exists from start-up; `bind` gives it the team and the bot once Mattermost answers.

    Before that, every call raises PlatformUnavailable, which the outbox and the reminders
    retry: the core's services are built with it and never see a missing platform.
    """

    name = "mattermost"

    def __init__(
        self,
        api: MattermostApi,
        channel_name: str,
        signer: SignedButtons,
        *,
        public_channel: str = DEFAULT_PUBLIC_CHANNEL,
    ) -> None:
        self._api = api
        self.channel_name = channel_name
        # The slash command, the configured channels (shown « ~name »), accounts by username.
        self.dialect = Dialect(
            label="Mattermost",
            command="/intra",
            public_channel=public_channel,
            private_channel=channel_name,
        )
        self._signer = signer
        self._team_id = ""
        self._bot_id = ""
        self._bot_username = ""
        self._channel: ChannelInfo | None = None
        self._directs: dict[str, str] = {}
        self._poster: MattermostChannelPoster | None = None

    def bind(self, team_id: str, bot_user_id: str, bot_username: str) -> None:
        """Mattermost answered: the team the bot works in, and who the bot is."""
        self._team_id = team_id
        self._bot_id = bot_user_id
        self._bot_username = bot_username
        self._poster = MattermostChannelPoster(self._api, team_id)

    @property
    def ready(self) -> bool:
        return self._poster is not None

    def _posts(self) -> MattermostChannelPoster:
        if self._poster is None:
            raise PlatformUnavailable("Mattermost has not answered yet")
        return self._poster

    async def post_marked(self, channel_name: str, text: str, marker: str) -> str:
        return await self._posts().post_marked(channel_name, text, marker)

    async def find_marked(self, channel_name: str, marker: str, since: dt.datetime) -> str | None:
        return await self._posts().find_marked(channel_name, marker, since)

    async def _private(self) -> ChannelInfo:
        self._posts()
        if self._channel is None:
            self._channel = await self._api.channel(self._team_id, self.channel_name)
        return self._channel

    async def is_member(self, user_id: str) -> bool:
        try:
            channel = await self._private()
        except MattermostApiError:
            return False
        return await self._api.channel_roles(channel.id, user_id) is not None

    async def profile(self, user_id: str) -> User:
        try:
            info = await self._api.user(user_id)
        except MattermostApiError as error:
            if error.status == 404:
                raise NoSuchUser(user_id) from None
            raise
        return User(
            id=info.id,
            username=info.username,
            full_name=info.full_name,
            position=info.position,
            is_bot=info.is_bot,
        )

    async def user_ids(self, usernames: list[str]) -> dict[str, str]:
        """The active people among `usernames`: a deactivated account or a bot decides nothing."""
        found = {
            name: user
            for name, user in (await self._api.users_by_usernames(usernames)).items()
            if not user.delete_at and not user.is_bot
        }
        missing = sorted(set(usernames) - set(found))
        if missing:
            log.error(
                "event=referents_not_found usernames=%s hint='fix content/referents.yaml'",
                ",".join(missing),
            )
        return {name: user.id for name, user in found.items()}

    async def send_direct(
        self, user_id: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        self._posts()
        if user_id not in self._directs:
            self._directs[user_id] = await self._api.direct_channel(self._bot_id, user_id)
        channel_id = self._directs[user_id]
        return channel_id, await self._post_once(channel_id, reply, key, retry)

    async def post_in(
        self, channel_name: str, reply: Reply, *, key: str = "", retry: bool = False
    ) -> tuple[str, str]:
        self._posts()
        channel = await self._api.channel(self._team_id, channel_name)
        return channel.id, await self._post_once(channel.id, reply, key, retry)

    async def _post_once(self, channel_id: str, reply: Reply, key: str, retry: bool) -> str:
        """Create the post; a retried keyed one is first looked for (an attempt that died
        after Mattermost created the post must not send it twice)."""
        props = post_props(reply, self._signer)
        if key:
            props[MARKER_PROP] = key
            if retry:
                since = dt.datetime.now(dt.UTC) - RETRY_LOOKBACK
                for post in await self._api.posts_since(channel_id, int(since.timestamp() * 1000)):
                    marker = (post.get("props") or {}).get(MARKER_PROP)
                    if marker == key and not post.get("delete_at"):
                        log.info("event=outbox_already_sent key=%s post_id=%s", key, post["id"])
                        return str(post["id"])
        return await self._api.create_post(channel_id, reply.text, props=props)

    async def offer_choices(self, channel_id: str, post_id: str, reply: Reply) -> None:
        """Nothing to do: Mattermost shows the reply's buttons in the post itself."""

    async def update_post(self, post_id: str, reply: Reply, *, channel_id: str = "") -> None:
        await self._api.update_post(post_id, reply.text, post_props(reply, self._signer))

    async def add_member(self, user_id: str) -> None:
        bot = f"@{self._bot_username}"
        channel = f"~{self.channel_name}"
        try:
            private = await self._private()
            await self._api.add_channel_member(private.id, user_id)
        except MattermostUnavailable:
            raise AddFailed(PLATFORM_UNAVAILABLE) from None
        except MattermostApiError as error:
            log.error(
                "event=channel_add_failed status=%s error_id=%s", error.status, error.error_id
            )
            self._channel = None  # it may have been renamed or recreated
            if "team" in error.error_id and "member" in error.error_id:
                raise AddFailed(NOT_IN_TEAM) from None
            if error.status in (403, 404):
                raise AddFailed(cannot_add(bot, channel)) from None
            raise AddFailed(add_refused(error.status, error.error_id)) from None
