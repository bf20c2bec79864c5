"""Connecting to Mattermost: who the bot is and where it posts, retried while unreachable.

An unreachable server (starting, restarting, a network cut) and a server that says no
for a reason `intra-bot setup` can fix are retried with a growing wait; a rejected token
(401) is not: retrying would never succeed, so the process stops with the fix to make.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.adapters.mattermost.api import (
    ChannelInfo,
    MattermostApi,
    MattermostApiError,
    MattermostUnavailable,
    UserInfo,
)
from bot.adapters.mattermost.websocket import backoff_delay, sleep_unless
from bot.chat import PlatformRefused

log = logging.getLogger(__name__)


class TokenRejected(PlatformRefused):
    """Mattermost refused the bot's token (401); the message says what to check."""


@dataclass(frozen=True)
class Connection:
    me: UserInfo
    team_id: str
    public: ChannelInfo


async def connect(
    api: MattermostApi, team: str, public_channel: str, stop: asyncio.Event
) -> Connection | None:
    """The bot's identity, its team and its public channel; None when stopped first."""
    attempt = 0
    while not stop.is_set():
        try:
            me = await api.me()
            team_id = await api.team_id(team)
            return Connection(me, team_id, await api.channel(team_id, public_channel))
        except MattermostUnavailable as error:
            delay = backoff_delay(attempt)
            attempt += 1
            log.warning("event=mattermost_unreachable error=%r retry_in=%.1f", str(error), delay)
            await sleep_unless(stop, delay)
        except MattermostApiError as error:
            if error.status == 401:
                raise TokenRejected(
                    "Mattermost rejected the bot token (401). Check mattermost.token "
                    "(INTRA_BOT_MATTERMOST__TOKEN): it must be the bot account's access token."
                ) from None
            delay = backoff_delay(attempt)
            attempt += 1
            log.error(
                "event=mattermost_setup_error error=%r retry_in=%.1f hint='run intra-bot setup'",
                str(error),
                delay,
            )
            await sleep_unless(stop, delay)
    return None
