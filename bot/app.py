"""Wiring: config -> store, content, services, adapters; start and stop gracefully.

The core's services are built once, with the platforms they serve; the adapters connect
in the background. The scheduler and the outbox run from the start, whether or not a
platform has answered yet: what needs one waits for it (PlatformUnavailable is retried).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import os
import secrets
import signal
import socket
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from bot.adapters.mattermost.http import build_app
from bot.answers.budget import QuestionBudget
from bot.answers.conversation import Conversation
from bot.answers.question_log import QuestionLog
from bot.answers.question_recorder import QuestionRecorder
from bot.answers.stats import StatsService
from bot.chat import PlatformRefused, Platforms
from bot.clock import utc_now
from bot.club.service import ClubService
from bot.club.targets import ReminderTarget
from bot.config import Settings, missing_matrix_extra
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.greeter import Greeter
from bot.health import Health
from bot.invitations.schema import LEGACY_PLATFORM
from bot.invitations.service import InvitationService, InvitationSettings
from bot.invitations.typed import TypedDecisions
from bot.jobs import JobScheduler
from bot.outbox.store import OutboxStore
from bot.outbox.worker import OutboxWorker
from bot.retention import Retention, schedule_upkeep
from bot.store import Store
from bot.subscriptions import wiring as subscriptions
from bot.web import ICS_PATH, club_calendar, fetch_url, listen, subscription_calendar

if TYPE_CHECKING:
    from bot.adapters.matrix.adapter import MatrixAdapter
    from bot.adapters.mattermost.adapter import MattermostAdapter

log = logging.getLogger(__name__)

STOP_TIMEOUT = 8.0  # SIGTERM to exit within 10 s, with margin


class Adapter(Protocol):
    """What the app runs of a chat adapter: served until stop, `connected` once it answered."""

    connected: asyncio.Event

    async def serve(self, stop: asyncio.Event) -> None: ...

    def health(self) -> tuple[bool, dict[str, Any]]: ...

    async def close(self) -> None: ...


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
        self.recorder = QuestionRecorder(self.questions, utc_now)
        answers = settings.answers
        self.platforms = Platforms()  # filled by the adapters below, before anything runs
        self.conversation = Conversation(
            self.content,
            self.recorder if answers.record_questions else None,
            private_channel=settings.mattermost.private_channel,
            budget=QuestionBudget(answers.questions_per_minute, answers.question_burst)
            if answers.questions_per_minute > 0
            else None,
            dialects=self.platforms.dialect,
        )
        owner = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.outbox = OutboxWorker(
            OutboxStore(self.store),
            owner,
            lease=dt.timedelta(seconds=settings.outbox.lease_seconds),
            clock=utc_now,
        )
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
        self.subscriptions = subscriptions.build(
            settings, self.store, self.club, self.platforms, self.outbox, utc_now
        )
        self.stats = StatsService(
            self.questions,
            lambda m: self.invitations.is_referent(m.user, m.platform or LEGACY_PLATFORM),
            utc_now,
            before_reading=self.recorder.flush,
            subscriptions=self.subscriptions.records.counts,
        )
        self.conversation.serve_topic("club", self.club.reply)
        self.conversation.register("rejoindre", self.invitations.request)
        self.conversation.register("demandes", self.invitations.pending)
        typed = TypedDecisions(self.invitations)
        self.conversation.register("accepter", typed.accept)
        self.conversation.register("refuser", typed.decline)
        self.conversation.register("stats", self.stats.reply)  # referents only, like demandes
        subscriptions.register(self.conversation, self.subscriptions)
        self.greeter.tell(self.subscriptions)  # follow-ups, and leavers unsubscribed
        self.scheduler = self._scheduler()
        self.health = Health(
            self.store,
            self.content,
            self.outbox.store,
            self.club,
            self.scheduler,
            settings.reminders.enabled,
            self._adapters(),
            self.recorder,
            self.invitations.referents,
        )
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._recording: asyncio.Task[None] | None = None
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
        try:
            from bot.adapters.matrix.adapter import MatrixAdapter
            from bot.adapters.matrix.session import MatrixStartupError
        except ImportError as error:
            message = missing_matrix_extra(error)
            if message is None:
                raise
            raise StartupError(message) from None

        try:
            adapter = MatrixAdapter(
                self.settings.matrix,
                self.store,
                self.settings.store.url,
                self.conversation,
                invitations=self.invitations,
                greeter=self.greeter,
                owner=self.outbox.owner,
                answer_lease=dt.timedelta(seconds=self.settings.answers.claim_lease_seconds),
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
        lease = self.settings.invitations.decision_lease_seconds
        schedule_upkeep(scheduler, self.invitations, retention, lease)
        subscriptions.schedule(scheduler, self.subscriptions, self.settings)
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
        self._recording = asyncio.create_task(self.recorder.run(self.stop_event), name="questions")
        self.scheduler.start()
        # Effects queued by a process that died (or by this one, still failing) go out now.
        self._spawn(self.outbox.run(self.stop_event), "outbox")
        for adapter in self._adapters():
            self._spawn(self._serve(adapter), type(adapter).__name__)
        # What start-up built (content, index, modules) lives as long as the process: out of
        # the collector's sight, a full collection no longer walks it under every request.
        gc.freeze()

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
        # After the listener: the last questions answered are written too.
        if self._recording is not None:
            await asyncio.gather(self._recording, return_exceptions=True)
        await self.recorder.flush()
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
        routes = [club_calendar(self.club), subscription_calendar(self.subscriptions.club_notices)]
        command = None
        if self.mattermost is not None:
            routes += self.mattermost.routes()
            command = self.mattermost.command
        http = self.settings.http
        self._runner, self.bound_port = await listen(
            build_app(command, self.health, routes), http.host, http.port
        )

    async def _serve(self, adapter: Adapter) -> None:
        waiting = asyncio.create_task(adapter.connected.wait())
        waiting.add_done_callback(self._platform_connected)
        try:
            await adapter.serve(self.stop_event)
        except PlatformRefused as error:
            self.stop_event.set()
            raise StartupError(str(error)) from None
        finally:
            waiting.cancel()

    def _platform_connected(self, waited: asyncio.Task[Any]) -> None:
        if waited.cancelled():
            return
        self.scheduler.sweep_now()  # reminders due while it was away
        # Whose username changed hands while it was away: /healthz says it from the start.
        # Through referent_ids, one look at a time: a question's own first look waits for
        # this one, rather than reading the pins while this one writes them.
        for name in self.platforms.names():
            self._spawn(self.invitations.referent_ids(name), "referents-check")
        if all(adapter.connected.is_set() for adapter in self._adapters()):
            self.ready_event.set()

    def _adapters(self) -> list[Adapter]:
        return [a for a in (self.mattermost, self.matrix) if a is not None]
