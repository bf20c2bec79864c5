"""The test Synapse's referents are the content's, with the ids the e2e settings give them.

Not an e2e test: it reads scripts/synapse/bootstrap.py (stdlib only, so it cannot read the
YAML and lists the localparts itself) and the content; when the content's referents change,
it says to update the bootstrap.
"""

from __future__ import annotations

import filecmp
import importlib.util
from pathlib import Path

from bot.content.loader import DEFAULT_CONTENT_DIR, Content, load_content
from tests.e2e_matrix.referents import MAGALI, MARINE, content_with_tchap_ids, referent_localparts

BOOTSTRAP = Path(__file__).resolve().parents[2] / "scripts" / "synapse" / "bootstrap.py"


def test_the_synapse_bootstrap_registers_exactly_the_content_referents(content: Content) -> None:
    spec = importlib.util.spec_from_file_location("synapse_bootstrap", BOOTSTRAP)
    assert spec is not None and spec.loader is not None
    bootstrap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bootstrap)
    assert referent_localparts(content) == bootstrap.REFERENT_USERS == [MARINE, MAGALI], (
        "update REFERENT_USERS in scripts/synapse/bootstrap.py to the referents of "
        "content/referents.yaml (their e-mail with « - » for « @ », as Tchap makes ids)"
    )


def test_the_shipped_content_has_no_tchap_id_and_the_test_copy_has_one_each(
    content: Content, tmp_path: Path
) -> None:
    assert [p.comptes.tchap for p in content.referents.referents] == [None, None]
    copy = content_with_tchap_ids("intra.test", tmp_path / "content")
    people = load_content(copy).referents.referents
    assert [p.comptes.tchap for p in people] == [f"@{MARINE}:intra.test", f"@{MAGALI}:intra.test"]
    assert all(p.handles_invitations for p in people)
    shipped = sorted(p.name for p in DEFAULT_CONTENT_DIR.iterdir() if p.is_file())
    same, changed, _ = filecmp.cmpfiles(DEFAULT_CONTENT_DIR, copy, shipped, shallow=False)
    assert changed == ["referents.yaml"] and len(same) == len(shipped) - 1
