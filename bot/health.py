"""/healthz: every part's state, and whether the bot is ready (store and every platform)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from bot.answers.question_recorder import QuestionRecorder
from bot.club.service import ClubService
from bot.content.loader import ContentSource
from bot.invitations.referents import ReferentAccounts
from bot.jobs import JobScheduler
from bot.outbox.store import OutboxStore
from bot.store import Store

Report = tuple[bool, dict[str, Any]]


class AdapterHealth(Protocol):
    def health(self) -> tuple[bool, dict[str, Any]]:
        """(ready, the adapter's parts by name)."""
        ...


@dataclass(frozen=True)
class Health:
    store: Store
    content: ContentSource
    outbox: OutboxStore
    club: ClubService
    scheduler: JobScheduler
    reminders_enabled: bool
    adapters: Sequence[AdapterHealth]
    questions: QuestionRecorder
    referents: ReferentAccounts | None = None

    async def __call__(self) -> Report:
        store_ok = await asyncio.to_thread(self.store.ping)
        pending = await asyncio.to_thread(self.outbox.pending_count) if store_ok else None
        error = self.content.last_error
        parts: dict[str, Any] = {
            "store": {"ok": store_ok},
            "content": {
                "ok": error is None,
                "topics": len(self.content.current.topics),
                "last_reload_error": str(error.problems[0]) if error and error.problems else None,
            },
            # Messages queued after a state change and not yet sent (retried until done).
            "outbox": {"ok": True, "pending": pending},
            # Questions recorded in batches: waiting to be written, and lost to a full queue.
            "questions": {
                "ok": True,
                "pending": self.questions.pending,
                "dropped": self.questions.dropped,
            },
            "club_feed": asdict(self.club.feed_status),
            "reminders": {
                "ok": True,
                "enabled": self.reminders_enabled,
                "running": self.scheduler.running,
                "next": self.scheduler.next_reminder(),
                "last_posted": self.club.last_posted or None,
            },
        }
        if self.referents is not None:
            # A warning, not unreadiness: the other referents and every answer still work.
            held = self.referents.problems()
            parts["referents"] = {"ok": not held, "held": held}
        ready = store_ok
        for adapter in self.adapters:
            adapter_ready, adapter_parts = adapter.health()
            parts.update(adapter_parts)
            ready = ready and adapter_ready
        return ready, {"status": "ok" if ready else "unavailable", "parts": parts}
