"""Wiring: config -> store, content, services, adapters; start and stop gracefully.

The core's services are built once, with the platforms they serve; the adapters connect
in the background. The scheduler and the outbox run from the start, whether or not a
platform has answered yet: what needs one waits for it (PlatformUnavailable is retried).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
import secrets
import signal
import socket
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import httpx
from aiohttp import web

from bot.adapters.mattermost.http import build_app
from bot.answers.conversation import Conversation
from bot.answers.question_log import QuestionLog
from bot.answers.stats import StatsService
from bot.chat import Platforms
from bot.club.service import ClubService, utc_now
from bot.club.targets import ReminderTarget
from bot.config import Settings
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.greeter import Greeter
from bot.invitations.recovery import finish_stuck
from bot.invitations.schema import LEGACY_PLATFORM
from bot.invitations.service import InvitationService, InvitationSettings
from bot.invitations.typed import TypedDecisions
from bot.jobs import JobScheduler
from bot.outbox.store import OutboxStore
from bot.outbox.worker import OutboxWorker
from bot.retention import Retention
from bot.store import Store

if TYPE_CHECKING:
    from bot.adapters.matrix.adapter import MatrixAdapter
    from bot.adapters.mattermost.adapter import MattermostAdapter

log = logging.getLogger(__name__)

ICS_PATH = "/club.ics"
STOP_TIMEOUT = 8.0  # SIGTERM to exit within 10 s, with margin


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
        owner = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.outbox = OutboxWorker(
            OutboxStore(self.store),
            owner,
            lease=dt.timedelta(seconds=settings.outbox.lease_seconds),
            clock=utc_now,
        )
        self.platforms = Platforms()  # filled by the adapters below, before anything runs
        self.invitations = self._invitations()
        self.greeter = Greeter(self.content, self.platforms, self.outbox)
        self.mattermost = self._mattermost()
        self.matrix = self._matrix()
        self.club = ClubService(
            self.content,
            self.store,
            owner=owner,
            targets=self._reminder_targets(),
            grace=dt.timedelta(hours=settings.reminders.grace_hours),
            lease=dt.timedelta(seconds=settings.reminders.lease_seconds),
            subscribe_url=settings.http.public_url.rstrip("/") + ICS_PATH,
            fetch=fetch_url,
        )
        self.stats = StatsService(
            self.questions,
            lambda m: self.invitations.is_referent(m.user, m.platform or LEGACY_PLATFORM),
            utc_now,
        )
        self.conversation.serve_topic("club", self.club.reply)
        self.conversation.register("rejoindre", self.invitations.request)
        self.conversation.register("demandes", self.invitations.pending)
        typed = TypedDecisions(self.invitations)
        self.conversation.register("accepter", typed.accept)
        self.conversation.register("refuser", typed.decline)
        self.conversation.register("stats", self.stats.reply)  # referents only, like demandes
        self.scheduler = self._scheduler()
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.bound_port: int | None = None

    def _invitations(self) -> InvitationService:
        config = self.settings.invitations
        return InvitationService(
            self.content,
            self.store,
            self.platforms,
            InvitationSettings(
                cooldown=dt.timedelta(days=config.cooldown_days),
                recall_after=dt.timedelta(days=config.recall_after_days),
                retention=dt.timedelta(days=config.retention_days),
                referents_channel=config.referents_channel,
                referents_rooms={"matrix": self.settings.matrix.referents_room},
                decision_lease=dt.timedelta(seconds=config.decision_lease_seconds),
            ),
            clock=utc_now,
            outbox=self.outbox,
        )

    def _mattermost(self) -> MattermostAdapter | None:
        if not self.settings.mattermost.token.get_secret_value():
            return None
        from bot.adapters.mattermost.adapter import MattermostAdapter

        adapter = MattermostAdapter(
            self.settings,
            self.store,
            self.conversation,
            self.invitations,
            self.greeter,
            self.outbox,
        )
        self.platforms.add(adapter.platform)
        return adapter

    def _matrix(self) -> MatrixAdapter | None:
        if not self.settings.matrix.homeserver:
            return None
        # Imported only when configured: mautrix is the optional `matrix` extra.
        from bot.adapters.matrix.adapter import MatrixAdapter
        from bot.adapters.matrix.session import MatrixStartupError

        try:
            adapter = MatrixAdapter(
                self.settings.matrix,
                self.store,
                self.settings.store.url,
                self.conversation,
                invitations=self.invitations,
                greeter=self.greeter,
            )
        except MatrixStartupError as error:
            raise StartupError(f"Matrix: {error}") from None
        self.platforms.add(adapter.platform)
        return adapter

    def _reminder_targets(self) -> list[ReminderTarget]:
        """Mattermost: each reminder's channel from the content, under its own key (the
        ledger's older rows); Tchap: the configured public room, under `matrix:` keys."""
        targets = []
        if self.mattermost is not None:
            targets.append(ReminderTarget(self.mattermost.platform))
        if self.matrix is not None and self.settings.matrix.public_room:
            room = self.settings.matrix.public_room
            targets.append(ReminderTarget(self.matrix.platform, room=room, prefix="matrix:"))
        return targets

    def _scheduler(self) -> JobScheduler:
        scheduler = JobScheduler(self.club, reminders=self.settings.reminders.enabled)
        retention = Retention(self.store, self.questions, self.outbox.store, self.settings, utc_now)
        scheduler.every(3600, self.invitations.recall, "invitations-recall")
        scheduler.every(86400, self.invitations.purge, "invitations-retention")
        scheduler.every(86400, retention.forget_answered_posts, "forget-answered-posts")
        scheduler.every(86400, retention.forget_old_questions, "questions-retention")
        scheduler.every(86400, retention.forget_finished_effects, "forget-finished-effects")
        lease = self.settings.invitations.decision_lease_seconds
        # A stuck decision is finished within 1.5 leases; the first look at start-up is soon.
        scheduler.every(
            max(1.0, min(60.0, lease / 2)),
            functools.partial(finish_stuck, self.invitations),
            "finish-stuck",
            5.0,
        )
        return scheduler

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
        self.scheduler.start()
        # Effects queued by a process that died (or by this one, still failing) go out now.
        self._spawn(self.outbox.run(self.stop_event), "outbox")
        if self.mattermost is not None:
            self._spawn(self._serve_mattermost(self.mattermost), "mattermost")
        if self.matrix is not None:
            self._spawn(self._serve_matrix(self.matrix), "matrix")

    def _spawn(self, work: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(work, name=name))

    async def stop(self) -> None:
        log.info("event=stopping")
        self.stop_event.set()
        try:
            await asyncio.wait_for(self._shutdown(), timeout=STOP_TIMEOUT)
        except TimeoutError:
            log.warning("event=stop_timeout seconds=%s", STOP_TIMEOUT)
        log.info("event=stopped")

    async def _shutdown(self) -> None:
        self.scheduler.shutdown()
        await self.club.drain()
        if self.mattermost is not None:
            await self.mattermost.close()
        for task in self._tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.matrix is not None:
            await self.matrix.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self.store.close()

    def reload_content(self) -> None:
        error = self.content.reload()
        if error is None:
            log.info("event=content_reloaded topics=%d", len(self.content.current.topics))
            self.scheduler.replan()
        else:
            log.error(
                "event=content_reload_failed problems=%d kept=previous first=%r",
                len(error.problems),
                str(error.problems[0]) if error.problems else "",
            )

    # -- parts --------------------------------------------------------------------

    async def _start_http(self) -> None:
        routes = [web.get(ICS_PATH, self._club_ics)]
        command = None
        if self.mattermost is not None:
            routes += self.mattermost.routes()
            command = self.mattermost.command
        app = build_app(command, self.health, routes)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=3.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.http.host, self.settings.http.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.settings.http.port
        log.info("event=http_listening host=%s port=%s", self.settings.http.host, self.bound_port)

    async def _club_ics(self, _request: web.Request) -> web.Response:
        body = await asyncio.to_thread(self.club.ics)
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Content-Disposition": 'inline; filename="club-intras.ics"'},
        )

    async def _serve_mattermost(self, adapter: MattermostAdapter) -> None:
        from bot.adapters.mattermost.adapter import TokenRejected

        waiting = asyncio.create_task(adapter.connected.wait())
        waiting.add_done_callback(self._platform_connected)
        try:
            await adapter.run(self.stop_event)
        except TokenRejected as error:
            self.stop_event.set()
            raise StartupError(str(error)) from None
        finally:
            waiting.cancel()

    def _platform_connected(self, waited: asyncio.Task[Any]) -> None:
        if waited.cancelled():
            return
        self.scheduler.sweep_now()  # reminders due while it was away
        self.ready_event.set()

    async def _serve_matrix(self, adapter: MatrixAdapter) -> None:
        """Tchap beside Mattermost, sharing the store and the core."""
        from bot.adapters.matrix.session import MatrixStartupError
        from bot.adapters.matrix.stores import MatrixStoreError

        try:
            if not await adapter.start_when_reachable(self.stop_event):
                return
            log.info("event=matrix_started user_id=%s", self.settings.matrix.user_id)
            if self.mattermost is None:
                self.ready_event.set()
            await adapter.run(self.stop_event)
        except (MatrixStartupError, MatrixStoreError) as error:
            self.stop_event.set()
            raise StartupError(f"Matrix: {error}") from None

    async def health(self) -> tuple[bool, dict[str, Any]]:
        store_ok = await asyncio.to_thread(self.store.ping)
        outbox_pending = (
            await asyncio.to_thread(self.outbox.store.pending_count) if store_ok else None
        )
        parts: dict[str, Any] = {
            "store": {"ok": store_ok},
            "content": {
                "ok": self.content.last_error is None,
                "topics": len(self.content.current.topics),
                "last_reload_error": str(self.content.last_error.problems[0])
                if self.content.last_error and self.content.last_error.problems
                else None,
            },
        }
        ready = store_ok
        if self.mattermost is not None:
            parts.update(self.mattermost.status())
            ready = ready and self.mattermost.ready
        parts.update(
            {
                # Messages queued after a state change and not yet sent (retried until done).
                "outbox": {"ok": True, "pending": outbox_pending},
                "club_feed": asdict(self.club.feed_status),
                "reminders": {
                    "ok": True,
                    "enabled": self.settings.reminders.enabled,
                    "running": self.scheduler.running,
                    "next": self.scheduler.next_reminder(),
                    "last_posted": self.club.last_posted or None,
                },
            }
        )
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
