from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import DEFAULT_CONTENT_DIR, Content, load_content


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
