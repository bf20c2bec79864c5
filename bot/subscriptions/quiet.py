"""Quiet hours: no personal message at night or at the weekend, unless what it announces
is the next day. Pure.

A message whose time falls in quiet hours waits for their end: the next morning at
`until`, or Monday morning after a weekend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SATURDAY = 5


@dataclass(frozen=True)
class QuietHours:
    start: dt.time  # quiet from this hour in the evening...
    until: dt.time  # ... to this hour in the morning
    weekend: bool  # and all Saturday and Sunday
    zone: ZoneInfo
    enabled: bool = True

    def is_quiet(self, at: dt.datetime) -> bool:
        local = at.astimezone(self.zone)
        if not self.enabled:
            return False
        if self.weekend and local.weekday() >= SATURDAY:
            return True
        wall = local.time()
        if self.start <= self.until:  # quiet within one day (« 13:00 » to « 14:00 »)
            return self.start <= wall < self.until
        return wall >= self.start or wall < self.until


def release_time(
    at: dt.datetime, quiet: QuietHours, event: dt.datetime | None = None
) -> dt.datetime:
    """When a message meant for `at` may go: `at` itself, unless it falls in quiet hours
    and the `event` it announces is not the next day (or sooner)."""
    if not quiet.is_quiet(at):
        return at
    if event is not None:
        local = event.astimezone(quiet.zone).date()
        if (local - at.astimezone(quiet.zone).date()).days <= 1:
            return at
    # The next `until` that is not quiet itself (a weekend's mornings are): at most 3 days.
    day = at.astimezone(quiet.zone).date()
    for _ in range(4):
        candidate = dt.datetime.combine(day, quiet.until, tzinfo=quiet.zone)
        if candidate > at and not quiet.is_quiet(candidate):
            return candidate
        day += dt.timedelta(days=1)
    return at  # quiet all week long: never wait for ever
