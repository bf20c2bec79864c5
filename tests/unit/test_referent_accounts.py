"""Referents' accounts by platform (`comptes`): validated with file:line, the old
top-level `mattermost:` still read, and each known account shown neutrally."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answers.render import extras
from bot.content.errors import ContentError
from bot.content.loader import load_content

TCHAP = "@marine.purson-beta.gouv.fr:agent.dinum.tchap.gouv.fr"


def set_first_tchap(content: Path, value: str) -> Path:
    path = content / "referents.yaml"
    text = path.read_text(encoding="utf-8")
    first = text.index("      tchap:")
    end = text.index("\n", first)
    path.write_text(text[:first] + f"      tchap: {value}" + text[end:], encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


def test_the_shipped_content_leaves_tchap_ids_to_the_deployment() -> None:
    referents = load_content().referents.referents
    assert [p.comptes.mattermost for p in referents] == ["marine.purson", "magali.marcel"]
    assert all(p.comptes.tchap is None for p in referents)


def test_a_tchap_id_is_checked_and_a_bad_one_named_with_its_line(content_copy: Path) -> None:
    path = set_first_tchap(content_copy, f'"{TCHAP}"')
    person = load_content(content_copy).referents.referents[0]
    assert (
        person.comptes.on("matrix") == TCHAP and person.comptes.on("mattermost") == "marine.purson"
    )
    set_first_tchap(content_copy, "marine.purson@beta.gouv.fr")
    with pytest.raises(ContentError) as caught:
        load_content(content_copy)
    [problem] = [str(p) for p in caught.value.problems]
    assert f"referents.yaml, ligne {line_of(path, 'tchap: marine')}" in problem
    assert "identifiant Tchap invalide" in problem


def test_the_old_top_level_mattermost_is_still_read(content_copy: Path) -> None:
    path = content_copy / "referents.yaml"
    text = path.read_text(encoding="utf-8")
    old = text.replace(
        "    comptes:\n      mattermost: marine.purson\n",
        "    mattermost: marine.purson\n    comptes:\n",
        1,
    )
    assert old != text
    path.write_text(old, encoding="utf-8")
    assert load_content(content_copy).referents.referents[0].comptes.mattermost == "marine.purson"
    path.write_text(
        text.replace("    comptes:\n      mattermost: marine.purson\n", "    mattermost: marine.purson\n    comptes:\n      mattermost: autre.personne\n", 1),
        encoding="utf-8",
    )  # fmt: skip
    with pytest.raises(ContentError) as caught:
        load_content(content_copy)
    assert "donné deux fois" in str(caught.value)


def test_the_referents_overview_shows_each_known_account(content_copy: Path) -> None:
    set_first_tchap(content_copy, f'"{TCHAP}"')
    topic = load_content(content_copy).referents
    [shown] = extras(topic)
    first, second = shown.splitlines()
    assert first.endswith(f" · sur Mattermost : `@marine.purson` · sur Tchap : `{TCHAP}`")
    assert second.endswith(" · sur Mattermost : `@magali.marcel`")
    assert "Tchap" not in second
