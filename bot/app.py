"""Wiring: config -> store, content, services, adapters; start and stop gracefully."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
import secrets
import signal
import socket
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import httpx
from aiohttp import web

from bot.adapters.mattermost.actions import ACTION_PATH, DIALOG_PATH, InvitationActions
from bot.adapters.mattermost.api import MattermostApi
from bot.adapters.mattermost.catchup import CatchUp
from bot.adapters.mattermost.connect import TokenRejected, connect
from bot.adapters.mattermost.events import BotIdentity, EventRouter
from bot.adapters.mattermost.http import CommandEndpoint, build_app
from bot.adapters.mattermost.platform import MattermostPlatform
from bot.adapters.mattermost.render import SignedButtons
from bot.adapters.mattermost.signing import derive_secret
from bot.adapters.mattermost.websocket import EventStream, sleep_unless
from bot.answers.conversation import Conversation
from bot.answers.question_log import QuestionLog
from bot.answers.stats import StatsService
from bot.answers.welcome import WelcomeSettings
from bot.club.service import ClubService, utc_now
from bot.config import Settings
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.invitations.recovery import finish_stuck
from bot.invitations.service import InvitationService, InvitationSettings
from bot.jobs import JobScheduler
from bot.outbox.store import OutboxStore
from bot.outbox.worker import OutboxWorker
from bot.store import Store

if TYPE_CHECKING:
    from bot.adapters.matrix.adapter import MatrixAdapter

log = logging.getLogger(__name__)

ICS_PATH = "/club.ics"
STOP_TIMEOUT = 8.0  # SIGTERM to exit within 10 s, with margin
API_CHECK_INTERVAL = 15.0


class StartupError(Exception):
    """The bot cannot start with this configuration (exit 2); the message says why."""


class BotApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stop_event = asyncio.Event()
        self.ready_event = asyncio.Event()
        self.content = ContentSource(settings.content.dir or DEFAULT_CONTENT_DIR)
        self.store = Store.open(settings.store.url)
        self.questions = QuestionLog(self.store)
        self.conversation = Conversation(
            self.content,
            self.questions.recorder(utc_now) if settings.answers.record_questions else None,
            private_channel=settings.mattermost.private_channel,
        )
        public_url = settings.http.public_url.rstrip("/")
        owner = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.outbox = OutboxWorker(
            OutboxStore(self.store),
            owner,
            lease=dt.timedelta(seconds=settings.outbox.lease_seconds),
            clock=utc_now,
        )
        self.club = ClubService(
            self.content,
            self.store,
            owner=owner,
            grace=dt.timedelta(hours=settings.reminders.grace_hours),
            lease=dt.timedelta(seconds=settings.reminders.lease_seconds),
            subscribe_url=public_url + ICS_PATH,
            fetch=fetch_url,
        )
        self.conversation.serve_topic("club", self.club.reply)
        token = settings.mattermost.token.get_secret_value()
        self.secret = derive_secret(settings.http.signing_secret.get_secret_value(), token)
        self.signer = SignedButtons(self.secret, public_url + ACTION_PATH)
        invitations = settings.invitations
        self.invitations = InvitationService(
            self.content,
            self.store,
            None,  # the platform arrives once Mattermost answers
            InvitationSettings(
                cooldown=dt.timedelta(days=invitations.cooldown_days),
                recall_after=dt.timedelta(days=invitations.recall_after_days),
                retention=dt.timedelta(days=invitations.retention_days),
                referents_channel=invitations.referents_channel,
                decision_lease=dt.timedelta(seconds=invitations.decision_lease_seconds),
            ),
            clock=utc_now,
            outbox=self.outbox,
        )
        self.conversation.register("rejoindre", self.invitations.request)
        self.conversation.register("demandes", self.invitations.pending)
        # Referents only and ephemeral, like `demandes`.
        self.stats = StatsService(
            self.questions, lambda m: self.invitations.is_referent(m.user), utc_now
        )
        self.conversation.register("stats", self.stats.reply)
        self.scheduler: JobScheduler | None = None
        self.api = MattermostApi(
            settings.mattermost.url,
            settings.mattermost.token.get_secret_value(),
            timeout=settings.mattermost.request_timeout,
        )
        self.actions = InvitationActions(
            self.invitations, self.api, self.secret, public_url + DIALOG_PATH
        )

        self.matrix: MatrixAdapter | None = None
        if settings.matrix.homeserver:
            # Imported only when configured: mautrix is the optional `matrix` extra.
            from bot.adapters.matrix.adapter import MatrixAdapter
            from bot.adapters.matrix.session import MatrixStartupError

            try:
                self.matrix = MatrixAdapter(
                    settings.matrix, self.store, settings.store.url, self.conversation
                )
            except MatrixStartupError as error:
                raise StartupError(f"Matrix: {error}") from None
        self.stream: EventStream | None = None
        self.catchup: CatchUp | None = None
        self.identity: BotIdentity | None = None
        self.api_ok = False
        self.api_checked_at: float | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.bound_port: int | None = None

    # -- lifecycle ----------------------------------------------------------------

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT; raise StartupError for a rejected token."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop_event.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload_content)
        await self.start()
        try:
            await self.stop_event.wait()
        finally:
            await self.stop()
        failure = next(
            (t for t in self._tasks if t.done() and not t.cancelled() and t.exception()), None
        )
        if failure is not None:
            raise failure.exception()  # type: ignore[misc]

    async def start(self) -> None:
        await self._start_http()
        self._tasks.append(asyncio.create_task(self._connect(), name="connect"))
        self._tasks.append(asyncio.create_task(self._watch_api(), name="watch-api"))
        if self.matrix is not None:
            self._tasks.append(asyncio.create_task(self._serve_matrix(), name="matrix"))

    async def stop(self) -> None:
        log.info("event=stopping")
        self.stop_event.set()
        try:
            await asyncio.wait_for(self._shutdown(), timeout=STOP_TIMEOUT)
        except TimeoutError:
            log.warning("event=stop_timeout seconds=%s", STOP_TIMEOUT)
        log.info("event=stopped")

    async def _shutdown(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        await self.club.drain()
        if self.stream is not None:
            await self.stream.close()
        if self.catchup is not None:
            await self.catchup.drain()
        for task in self._tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.stream is not None:
            await self.stream.drain()
        if self.matrix is not None:
            await self.matrix.close()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.api.close()
        self.store.close()

    def reload_content(self) -> None:
        error = self.content.reload()
        if error is None:
            log.info("event=content_reloaded topics=%d", len(self.content.current.topics))
            if self.scheduler is not None:
                self.scheduler.replan()
        else:
            log.error(
                "event=content_reload_failed problems=%d kept=previous first=%r",
                len(error.problems),
                str(error.problems[0]) if error.problems else "",
            )

    # -- parts --------------------------------------------------------------------

    async def _start_http(self) -> None:
        tokens = [t.get_secret_value() for t in self.settings.http.command_tokens]
        endpoint = CommandEndpoint(self.conversation, lambda: tokens, self.signer)
        routes = [web.get(ICS_PATH, self._club_ics), *self.actions.routes()]
        app = build_app(endpoint, self.health, routes)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=3.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.http.host, self.settings.http.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.settings.http.port
        log.info("event=http_listening host=%s port=%s", self.settings.http.host, self.bound_port)
        if not tokens:
            log.warning(
                "event=no_command_token hint='set http.command_tokens (intra-bot setup prints it)'"
            )

    async def _forget_answered_posts(self) -> None:
        # Replays only come within minutes of a drop; a month of memory is plenty.
        cutoff = utc_now() - dt.timedelta(days=30)
        for prefix in ("post:", "matrix:"):  # Mattermost posts, Matrix events
            forgotten = await asyncio.to_thread(self.store.forget_events_before, cutoff, prefix)
            log.info(
                "event=answered_posts_forgotten prefix=%s count=%d before=%s",
                prefix,
                forgotten,
                cutoff.isoformat(),
            )

    async def _forget_old_questions(self) -> None:
        cutoff = utc_now() - dt.timedelta(days=self.settings.answers.retention_days)
        deleted = await asyncio.to_thread(self.questions.purge_before, cutoff)
        log.info("event=questions_forgotten count=%d before=%s", deleted, cutoff.isoformat())

    async def _forget_finished_effects(self) -> None:
        cutoff = utc_now() - dt.timedelta(days=30)
        forgotten = await asyncio.to_thread(self.outbox.store.purge_finished_before, cutoff)
        log.info("event=outbox_forgotten count=%d before=%s", forgotten, cutoff.isoformat())

    async def _club_ics(self, _request: web.Request) -> web.Response:
        body = await asyncio.to_thread(self.club.ics)
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Content-Disposition": 'inline; filename="club-intras.ics"'},
        )

    async def _connect(self) -> None:
        """Find who we are and where we post, retrying while Mattermost is unreachable."""
        try:
            connection = await connect(
                self.api,
                self.settings.mattermost.team,
                self.settings.mattermost.public_channel,
                self.stop_event,
            )
        except TokenRejected as error:
            self.stop_event.set()
            raise StartupError(str(error)) from None
        if connection is None:
            return
        me, team_id, public = connection.me, connection.team_id, connection.public
        self.api_ok = True
        self.api_checked_at = time.monotonic()
        self.identity = BotIdentity(me.id, me.username)
        welcome = self.content.current.messages.welcome
        router = EventRouter(
            self.api,
            self.store,
            self.conversation,
            self.identity,
            WelcomeSettings(channel_id=public.id, enabled=welcome.enabled),
            self.signer,
            self.outbox,
        )
        platform = MattermostPlatform(
            self.api,
            team_id,
            self.settings.mattermost.private_channel,
            me.id,
            me.username,
            self.signer,
        )
        self.invitations.platform = platform
        self.catchup = CatchUp(
            self.api,
            self.store,
            router,
            public.id,
            dt.timedelta(hours=self.settings.mattermost.catchup_hours),
            clock=utc_now,
        )
        self.stream = EventStream(
            self.api.websocket_url,
            self.settings.mattermost.token.get_secret_value(),
            self.catchup.handle,
            on_fresh=self.catchup.fresh,
            probe_url=self.api.base_url + "/api/v4/system/ping",
        )
        log.info("event=mattermost_connected bot=%s team_id=%s", me.username, team_id)
        self.club.channel = platform
        self.scheduler = JobScheduler(self.club, reminders=self.settings.reminders.enabled)
        self.scheduler.every(3600, self.invitations.recall, "invitations-recall")
        self.scheduler.every(86400, self.invitations.purge, "invitations-retention")
        self.scheduler.every(86400, self._forget_answered_posts, "forget-answered-posts")
        self.scheduler.every(86400, self._forget_old_questions, "questions-retention")
        self.scheduler.every(86400, self._forget_finished_effects, "forget-finished-effects")
        lease = self.settings.invitations.decision_lease_seconds
        # A stuck decision is finished within 1.5 leases; the first look at start-up is soon.
        self.scheduler.every(
            max(1.0, min(60.0, lease / 2)),
            functools.partial(finish_stuck, self.invitations),
            "finish-stuck",
            5.0,
        )
        self.scheduler.start()
        # Effects queued by a process that died (or by this one, still failing) go out now.
        self._tasks.append(asyncio.create_task(self.outbox.run(self.stop_event), name="outbox"))
        self.ready_event.set()
        await self.stream.run(self.stop_event)

    async def _serve_matrix(self) -> None:
        """Tchap beside Mattermost, sharing the store and the core."""
        from bot.adapters.matrix.session import MatrixStartupError
        from bot.adapters.matrix.stores import MatrixStoreError

        assert self.matrix is not None
        try:
            if not await self.matrix.start_when_reachable(self.stop_event):
                return
            log.info("event=matrix_started user_id=%s", self.settings.matrix.user_id)
            await self.matrix.run(self.stop_event)
        except (MatrixStartupError, MatrixStoreError) as error:
            self.stop_event.set()
            raise StartupError(f"Matrix: {error}") from None

    async def _watch_api(self) -> None:
        while not self.stop_event.is_set():
            self.api_ok = await self.api.ping()
            self.api_checked_at = time.monotonic()
            await sleep_unless(self.stop_event, API_CHECK_INTERVAL)

    async def health(self) -> tuple[bool, dict[str, Any]]:
        store_ok = await asyncio.to_thread(self.store.ping)
        outbox_pending = (
            await asyncio.to_thread(self.outbox.store.pending_count) if store_ok else None
        )
        stream = self.stream.status() if self.stream else None
        now = time.monotonic()
        websocket = {
            "ok": bool(stream and stream.connected),
            "connection_id": stream.connection_id if stream else "",
            "reconnects": stream.reconnects if stream else 0,
            "last_event_age_s": round(now - stream.last_event_at, 1)
            if stream and stream.last_event_at
            else None,
            "last_error": stream.last_error if stream else "not started",
        }
        parts = {
            "store": {"ok": store_ok},
            "content": {
                "ok": self.content.last_error is None,
                "topics": len(self.content.current.topics),
                "last_reload_error": str(self.content.last_error.problems[0])
                if self.content.last_error and self.content.last_error.problems
                else None,
            },
            "mattermost_api": {
                "ok": self.api_ok,
                "rest_calls": self.api.calls,
                "checked_age_s": round(now - self.api_checked_at, 1)
                if self.api_checked_at
                else None,
            },
            "websocket": websocket,
            # Messages queued after a state change and not yet sent (retried until done).
            "outbox": {"ok": True, "pending": outbox_pending},
            "club_feed": asdict(self.club.feed_status),
            "reminders": {
                "ok": True,
                "enabled": self.settings.reminders.enabled,
                "running": self.scheduler is not None,
                "next": self.scheduler.next_reminder() if self.scheduler else None,
                "last_posted": self.club.last_posted or None,
            },
        }
        ready = store_ok and self.api_ok and websocket["ok"] is True
        if self.matrix is not None:
            matrix = self.matrix.status()
            parts["matrix"] = matrix
            ready = ready and matrix["ok"] is True
        return ready, {"status": "ok" if ready else "unavailable", "parts": parts}


async def fetch_url(url: str) -> bytes:
    async with httpx.AsyncClient(timeout=20, follow_redirects=True) as client:
        response = await client.get(url)
        response.raise_for_status()
        return response.content
