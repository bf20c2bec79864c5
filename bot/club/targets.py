"""Where club reminders go: one target per platform, each with its own ledger keys.

Mattermost's target posts each reminder in its own channel from the content, under the
reminder's key as it is (the ledger's existing rows keep meaning "posted there"); the
Matrix target posts in the configured public room under `matrix:<key>`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.club import reminders


class MarkedPoster(Protocol):
    """The reminders' part of the chat port."""

    name: str

    @property
    def ready(self) -> bool: ...

    async def post_marked(self, channel_name: str, text: str, marker: str) -> str: ...

    async def find_marked(
        self, channel_name: str, marker: str, since: dt.datetime
    ) -> str | None: ...


@dataclass(frozen=True)
class ReminderTarget:
    """Where reminders go on one platform, and under which ledger key.

    `room` empty: each reminder's own channel from the content (Mattermost's). `prefix`
    empty: the reminder's key as it is, which the ledger's existing rows use.
    """

    platform: MarkedPoster
    room: str = ""
    prefix: str = ""

    def key(self, item: reminders.PlannedReminder) -> str:
        return self.prefix + item.key

    def channel(self, item: reminders.PlannedReminder) -> str:
        return self.room or item.channel
