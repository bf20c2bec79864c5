"""The e2e server's referent users are the content's referents.

scripts/mattermost/bootstrap.py is stdlib-only (it cannot read the YAML), so it lists the
referents' usernames itself; when the content's referents change, this test says to update it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bot.content.loader import Content

BOOTSTRAP = Path(__file__).resolve().parents[2] / "scripts" / "mattermost" / "bootstrap.py"


def test_bootstrap_creates_exactly_the_content_referents(content: Content) -> None:
    spec = importlib.util.spec_from_file_location("mm_bootstrap", BOOTSTRAP)
    assert spec is not None and spec.loader is not None
    bootstrap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bootstrap)
    in_content = [person.comptes.mattermost for person in content.referents.referents]
    assert in_content == bootstrap.REFERENT_USERS, (
        "update REFERENT_USERS in scripts/mattermost/bootstrap.py to the usernames of "
        "content/referents.yaml"
    )
