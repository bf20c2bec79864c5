"""A broken content file gives a message naming the file, the line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.errors import ContentError
from bot.content.loader import load_content


def problems(directory: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(directory)
    return [str(problem) for problem in caught.value.problems]


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_typo_in_a_key_names_file_line_and_suggestion(content_copy: Path) -> None:
    path = content_copy / "referents.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "    email: magali.marcel", "    emial: magali.marcel"
        ),
        encoding="utf-8",
    )
    found = problems(content_copy)
    line = line_of(path, "emial:")
    assert any(
        f'referents.yaml, ligne {line} : champ inconnu "emial" — vouliez-vous dire "email" ?' in p
        for p in found
    ), found


def test_wrong_type_names_the_field(content_copy: Path) -> None:
    path = content_copy / "referents.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "    handles_invitations: true", "    handles_invitations: peut-être", 1
        ),
        encoding="utf-8",
    )
    line = line_of(path, "peut-être")
    found = problems(content_copy)
    assert any(f"ligne {line}" in p and "oui ou non" in p for p in found), found


def test_yaml_syntax_error_gives_the_line(content_copy: Path) -> None:
    path = content_copy / "club.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = "title: [pas fermé"
    path.write_text("\n".join(lines), encoding="utf-8")
    found = problems(content_copy)
    assert len(found) == 1
    assert "club.yaml, ligne" in found[0] and "YAML invalide" in found[0]


def test_missing_file(content_copy: Path) -> None:
    (content_copy / "certification.yaml").unlink()
    found = problems(content_copy)
    assert any("certification.yaml" in p and "fichier manquant" in p for p in found)


def test_bad_url_and_empty_list(content_copy: Path) -> None:
    path = content_copy / "ressources.yaml"
    text = path.read_text(encoding="utf-8").replace("url: https://en3s.fr", "url: en3s.fr", 1)
    path.write_text(text, encoding="utf-8")
    found = problems(content_copy)
    assert any(
        "adresse invalide" in p and f"ligne {line_of(path, 'url: en3s.fr')}" in p for p in found
    )


def test_duplicate_alias_across_topics(content_copy: Path) -> None:
    path = content_copy / "club.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("aliases: [clubs,", "aliases: [certif, clubs,"),
        encoding="utf-8",
    )
    found = problems(content_copy)
    assert any("« certif » est déjà utilisé" in p for p in found), found


def test_every_problem_is_reported_at_once(content_copy: Path) -> None:
    (content_copy / "role.yaml").unlink()
    (content_copy / "canaux.yaml").write_text("id: canaux\n", encoding="utf-8")
    found = problems(content_copy)
    assert any("role.yaml" in p for p in found)
    assert sum("canaux.yaml" in p for p in found) >= 3


def test_missing_directory_is_one_clear_problem(tmp_path: Path) -> None:
    found = problems(tmp_path / "nowhere")
    assert len(found) == 1 and "dossier de contenu introuvable" in found[0]
