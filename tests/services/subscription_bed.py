"""A bed for the subscriptions' service tests: a real SQLite store, the real (or a copied)
content, two fake platforms, the outbox worker and the conversation, wired as `app.py` does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bot.answers.conversation import Conversation
from bot.chat import Message, Platforms, Reply, User
from bot.club.service import ClubService
from bot.config import Settings
from bot.content.loader import ContentSource
from bot.outbox.store import OutboxStore
from bot.outbox.worker import OutboxWorker
from bot.store import Store
from bot.subscriptions import wiring
from tests.fakes import FakeChatPlatform, FakeClock

# Thursday 3 December 2026, 16 h Paris: the rule's club; its notice, the day before at 17 h.
CLUB_DAY = dt.date(2026, 12, 3)
NOTICE_AT = dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.UTC)
BEFORE = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)
PUBLIC_URL = "https://bot.example"


@dataclass
class Bed:
    store: Store
    content: ContentSource
    clock: FakeClock
    mattermost: FakeChatPlatform
    matrix: FakeChatPlatform
    outbox: OutboxWorker
    conversation: Conversation
    subscriptions: wiring.Subscriptions

    async def push(self, text: str, user: User, platform: str = "mattermost") -> Reply:
        return await self.conversation.respond(Message(text, user, "dm", platform=platform))

    async def deliver(self) -> int:
        return await self.outbox.run_due()

    def close(self) -> None:
        self.store.close()


def make_bed(tmp_path: Path, content_dir: Path | None = None, **config: object) -> Bed:
    store = Store.open(f"sqlite:///{tmp_path / 'bot.db'}")
    content = ContentSource(content_dir) if content_dir else ContentSource()
    clock = FakeClock(BEFORE)
    mattermost, matrix = FakeChatPlatform(), FakeChatPlatform(name="matrix")
    platforms = Platforms(mattermost, matrix)
    outbox = OutboxWorker(OutboxStore(store), "test", clock=clock)
    conversation = Conversation(content, dialects=platforms.dialect)
    club = ClubService(content, store, owner="test", clock=clock)
    conversation.serve_topic("club", club.reply)
    settings = Settings.model_validate(
        {"http": {"public_url": PUBLIC_URL}, "subscriptions": dict(config)}
    )
    subscriptions = wiring.build(settings, store, club, platforms, outbox, clock)
    wiring.register(conversation, subscriptions)
    return Bed(store, content, clock, mattermost, matrix, outbox, conversation, subscriptions)
