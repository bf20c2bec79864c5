"""The pieces an EventRouter is built with, over a scripted Mattermost API."""

from __future__ import annotations

from typing import Any

from bot.adapters.mattermost.platform import MattermostPlatform
from bot.adapters.mattermost.render import SignedButtons
from bot.chat import Platforms
from bot.content.loader import ContentSource
from bot.greeter import Greeter
from bot.outbox.store import OutboxStore
from bot.outbox.worker import OutboxWorker
from bot.store import Store

SIGNER = SignedButtons(b"s" * 32, "http://bot/mattermost/action")


def bound_platform(api: Any, bot_id: str = "bot") -> MattermostPlatform:
    platform = MattermostPlatform(api, "domaine-intras-prive", SIGNER)
    platform.bind("team", bot_id, "intra-bot")
    return platform


def greeter_for(
    api: Any, store: Store, outbox: OutboxWorker | None = None, bot_id: str = "bot"
) -> Greeter:
    """A greeter sending through a Mattermost platform over `api`."""
    worker = outbox or OutboxWorker(OutboxStore(store), "greeter")
    return Greeter(ContentSource(), Platforms(bound_platform(api, bot_id)), worker)
