"""The test Synapse's referents: the content's referents, named as Tchap names people.

Tchap makes a person's Matrix id from their e-mail address (prenom.nom@beta.gouv.fr ->
@prenom.nom-beta.gouv.fr:server). scripts/synapse/bootstrap.py registers those localparts on
the test server, and the e2e settings give the referents these ids as their Tchap accounts,
in a copy of the shipped content (whose Tchap ids stay empty: real ones are not public).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bot.content.loader import DEFAULT_CONTENT_DIR, Content, load_content

MARINE = "marine.purson-beta.gouv.fr"  # Marine Purson on the test Synapse
MAGALI = "magali.marcel-beta.gouv.fr"  # Magali Marcel Garreau


def tchap_localpart(email: str) -> str:
    return email.replace("@", "-")


def referent_localparts(content: Content) -> list[str]:
    """The localparts the test server must have: one per referent of the content."""
    return [tchap_localpart(person.email) for person in content.referents.referents]


def content_with_tchap_ids(server_name: str, target: Path) -> Path:
    """A copy of the shipped content, each referent's `tchap:` set to their test id."""
    shutil.copytree(DEFAULT_CONTENT_DIR, target, dirs_exist_ok=True)
    path = target / "referents.yaml"
    ids = iter(f"@{local}:{server_name}" for local in referent_localparts(load_content(target)))
    text = path.read_text(encoding="utf-8")
    blank = re.compile(r"^(\s*)tchap:.*$", re.MULTILINE)  # one per referent, in their order
    path.write_text(
        blank.sub(lambda m: f'{m.group(1)}tchap: "{next(ids)}"', text), encoding="utf-8"
    )
    assert next(ids, None) is None, "a referent of referents.yaml has no `tchap:` line"
    return target
