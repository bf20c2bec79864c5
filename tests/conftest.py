from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

from bot.content.loader import DEFAULT_CONTENT_DIR, Content, load_content
from tests.fakes import TestBot
from tests.servers import LEASES


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(DEFAULT_CONTENT_DIR)


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A writable copy of the real content, for tests that break it."""
    target = tmp_path / "content"
    target.mkdir()
    for source in DEFAULT_CONTENT_DIR.glob("*.yaml"):
        (target / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return target


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[TestBot]:
    """Push text, get the reply: `reply = await bot.push("aide")` (see tests/fakes.py)."""
    testbot = TestBot(f"sqlite:///{tmp_path / 'bot.db'}")
    yield testbot
    testbot.close()


# Hypothesis keeps its storage (the examples that failed, to try them first next time, and
# its caches) in ./.hypothesis of the working directory by default: in the user's cache
# instead (the servers' cache root, scripts/mattermost.sh), never in the checkout.
CACHE_ROOT = Path(os.environ.get("INTRA_BOT_CACHE") or Path.home() / ".cache" / "intra-bot")
HYPOTHESIS_HOME = CACHE_ROOT / "hypothesis"
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(HYPOTHESIS_HOME))
settings.register_profile(
    "intra-bot", database=DirectoryBasedExampleDatabase(HYPOTHESIS_HOME / "examples")
)
# scripts/mutation runs the fast suites once per mutant: the same examples each time, so
# a score does not move between two runs of the same code, and no example database.
settings.register_profile("mutation", derandomize=True, database=None, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "intra-bot"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the test servers this session started (tests/servers.py)."""
    _server_lines.extend(LEASES.release_all())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _server_lines:
        terminalreporter.write_line(f"test servers: {line}")


_server_lines: list[str] = []
