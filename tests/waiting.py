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


# How long « nothing else happens » is watched: the bot answers anything in these tests
# within a second or two even on a busy machine; a late duplicate (a replayed event, a
# retried post) would come within that time several times over.
QUIET_S = 8.0


def until(condition: Callable[[], bool], what: str, *, timeout: float = DEADLINE_S) -> None:
    """Return as soon as `condition()` holds; fail, saying `what`, after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout:.0f} s: {what}")
        time.sleep(0.1)


def stays(condition: Callable[[], bool], what: str, *, seconds: float = QUIET_S) -> None:
    """Fail as soon as `condition()` stops holding during `seconds` (« nothing else happens »)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert condition(), f"no longer true: {what}"
        time.sleep(0.2)
    assert condition(), f"no longer true: {what}"
