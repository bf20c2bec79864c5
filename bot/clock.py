"""The wall clock, in one place: services take a `Clock` so that tests pass time in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """Now, aware, in UTC: what the store and the services compare."""
    return dt.datetime.now(dt.UTC)
