"""Waiting on a condition with a deadline, never for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# Generous: a busy machine (two cores, several suites) is slow, never wrong.
DEADLINE_S = 20.0


async def eventually(
    condition: Callable[[], bool], what: str, *, timeout: float = DEADLINE_S
) -> None:
    """Return as soon as `condition()` holds; fail, saying `what`, after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout:.0f} s: {what}")
        await asyncio.sleep(0.01)
