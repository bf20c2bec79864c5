"""The Mattermost adapter's lifecycle: connect (retried), events, catch-up, health.

Built at start-up with the core's conversation, greeter and invitations; its platform
(`MattermostPlatform`) exists from then on and is bound once Mattermost answers, so the
core never waits for it. A rejected token stops the process with the fix to make.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from aiohttp import web

from bot.adapters.mattermost.actions import ACTION_PATH, DIALOG_PATH, InvitationActions
from bot.adapters.mattermost.api import MattermostApi
from bot.adapters.mattermost.catchup import CatchUp
from bot.adapters.mattermost.connect import TokenRejected, connect
from bot.adapters.mattermost.events import BotIdentity, EventRouter
from bot.adapters.mattermost.http import CommandEndpoint
from bot.adapters.mattermost.platform import MattermostPlatform
from bot.adapters.mattermost.render import SignedButtons
from bot.adapters.mattermost.signing import derive_secret
from bot.adapters.mattermost.unfinished import UnfinishedAnswers
from bot.adapters.mattermost.websocket import EventStream, sleep_unless
from bot.answers.conversation import Conversation
from bot.answers.welcome import WelcomeSettings
from bot.clock import utc_now
from bot.config import Settings
from bot.greeter import Greeter
from bot.invitations.service import InvitationService
from bot.outbox.worker import OutboxWorker
from bot.store import Store

log = logging.getLogger(__name__)

API_CHECK_INTERVAL = 15.0


class MattermostAdapter:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        conversation: Conversation,
        invitations: InvitationService,
        greeter: Greeter,
        outbox: OutboxWorker,
    ) -> None:
        self._settings = settings
        self._store = store
        self._conversation = conversation
        self._greeter = greeter
        self._outbox = outbox
        mattermost, http = settings.mattermost, settings.http
        token = mattermost.token.get_secret_value()
        public_url = http.public_url.rstrip("/")
        self.secret = derive_secret(http.signing_secret.get_secret_value(), token)
        self.signer = SignedButtons(
            self.secret, public_url + ACTION_PATH, dt.timedelta(days=http.button_days)
        )
        self.api = MattermostApi(mattermost.url, token, timeout=mattermost.request_timeout)
        self.platform = MattermostPlatform(
            self.api,
            mattermost.private_channel,
            self.signer,
            public_channel=mattermost.public_channel,
        )
        self.actions = InvitationActions(
            invitations, self.api, self.secret, public_url + DIALOG_PATH
        )
        tokens = [t.get_secret_value() for t in http.command_tokens]
        self.command = CommandEndpoint(conversation, lambda: tokens, self.signer)
        if not tokens:
            log.warning(
                "event=no_command_token hint='set http.command_tokens (intra-bot setup prints it)'"
            )
        self.connected = asyncio.Event()
        self.stream: EventStream | None = None
        self.catchup: CatchUp | None = None
        self.unfinished: UnfinishedAnswers | None = None
        self.api_ok = False
        self.api_checked_at: float | None = None

    def routes(self) -> list[web.RouteDef]:
        """What Mattermost calls besides the slash command: the buttons and the dialogs."""
        return self.actions.routes()

    async def serve(self, stop: asyncio.Event) -> None:
        """Connect (retried while unreachable), then follow the websocket until `stop`.

        Raises TokenRejected (a PlatformRefused) when Mattermost refuses the token: no
        retry can fix that.
        """
        tasks = [asyncio.create_task(self._watch_api(stop), name="mattermost-watch-api")]
        try:
            if await self._connect(stop):
                assert self.stream is not None and self.unfinished is not None
                unfinished = self.unfinished.run(stop)
                tasks.append(asyncio.create_task(unfinished, name="mattermost-unfinished"))
                await self.stream.run(stop)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _connect(self, stop: asyncio.Event) -> bool:
        mattermost = self._settings.mattermost
        connection = await connect(self.api, mattermost.team, mattermost.public_channel, stop)
        if connection is None:
            return False
        me, team_id, public = connection.me, connection.team_id, connection.public
        self.api_ok = True
        self.api_checked_at = time.monotonic()
        welcome = self._conversation.content.current.messages.welcome
        router = EventRouter(
            self.api,
            self._store,
            self._conversation,
            BotIdentity(me.id, me.username),
            WelcomeSettings(channel_id=public.id, enabled=welcome.enabled),
            self._greeter,
            self.signer,
            self._outbox,
            dt.timedelta(seconds=self._settings.answers.claim_lease_seconds),
        )
        self.platform.bind(team_id, me.id, me.username)
        self.catchup = CatchUp(
            self.api,
            self._store,
            router,
            public.id,
            dt.timedelta(hours=mattermost.catchup_hours),
            clock=utc_now,
        )
        window = dt.timedelta(hours=mattermost.catchup_hours)
        # Looked at within half a lease of its end (at most every 30 s).
        every = min(30.0, max(1.0, self._settings.answers.claim_lease_seconds / 2))
        self.unfinished = UnfinishedAnswers(self.api, self._store, router, window, utc_now, every)
        self.stream = EventStream(
            self.api.websocket_url,
            mattermost.token.get_secret_value(),
            self.catchup.handle,
            on_fresh=self.catchup.fresh,
            probe_url=self.api.base_url + "/api/v4/system/ping",
        )
        log.info("event=mattermost_connected bot=%s team_id=%s", me.username, team_id)
        self.connected.set()
        # Effects queued while Mattermost was away (or by a dead process) can go out now.
        self._outbox.kick()
        return True

    async def _watch_api(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.api_ok = await self.api.ping()
            self.api_checked_at = time.monotonic()
            await sleep_unless(stop, API_CHECK_INTERVAL)

    async def close(self) -> None:
        """Stop following events, let the ones in hand finish, close the HTTP client."""
        if self.stream is not None:
            await self.stream.close()
        if self.catchup is not None:
            await self.catchup.drain()
        if self.stream is not None:
            await self.stream.drain()
        await self.api.close()

    def status(self) -> dict[str, dict[str, Any]]:
        """The Mattermost parts of /healthz."""
        stream = self.stream.status() if self.stream else None
        now = time.monotonic()
        return {
            "mattermost_api": {
                "ok": self.api_ok,
                "rest_calls": self.api.calls,
                "checked_age_s": round(now - self.api_checked_at, 1)
                if self.api_checked_at
                else None,
            },
            "websocket": {
                "ok": bool(stream and stream.connected),
                "connection_id": stream.connection_id if stream else "",
                "reconnects": stream.reconnects if stream else 0,
                # Events that waited for one of the 16 handlers (reading paused meanwhile).
                "held_back": self.stream.held_back if self.stream else 0,
                "last_event_age_s": round(now - stream.last_event_at, 1)
                if stream and stream.last_event_at
                else None,
                "last_error": stream.last_error if stream else "not started",
            },
        }

    @property
    def ready(self) -> bool:
        stream = self.stream.status() if self.stream else None
        return self.api_ok and bool(stream and stream.connected)

    def health(self) -> tuple[bool, dict[str, Any]]:
        return self.ready, self.status()


__all__ = ["MattermostAdapter", "TokenRejected"]
