"""Answerable units and their YAML: ids, questions, synonyms, and the checks on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.errors import ContentError
from bot.content.loader import Content, load_content
from bot.content.units import AGENDA, CHANNEL, ITEM, OVERVIEW, PERSON, RESOURCE, SECTION


def problems(directory: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(directory)
    return [str(problem) for problem in caught.value.problems]


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_every_section_item_person_channel_and_resource_is_a_unit(content: Content) -> None:
    units = content.retriever.units
    kinds = {unit.kind for unit in units}
    assert kinds == {OVERVIEW, SECTION, ITEM, PERSON, CHANNEL, RESOURCE, AGENDA}
    assert [u.id for u in units if u.kind == AGENDA] == ["club/agenda"]
    ids = [unit.id for unit in units]
    assert len(ids) == len(set(ids))
    sections = sum(len(topic.sections) for topic in content.topics.values())
    items = sum(len(s.items) for topic in content.topics.values() for s in topic.sections)
    assert sum(u.kind == SECTION for u in units) == sections
    assert sum(u.kind == ITEM for u in units) == items
    assert sum(u.kind == PERSON for u in units) == len(content.referents.referents)
    assert all(unit.source.startswith("https://") for unit in units)


def test_a_person_unit_carries_the_email(content: Content) -> None:
    person = content.retriever.by_id["referents/marine-purson"]
    assert "marine.purson@beta.gouv.fr" in person.markdown


def test_an_item_may_have_its_own_questions(content_copy: Path) -> None:
    path = content_copy / "certification.yaml"
    text = path.read_text(encoding="utf-8").replace(
        '      - "Prototypage"\n',
        '      - text: "Prototypage"\n        questions: ["faut-il savoir faire une maquette ?"]\n',
    )
    path.write_text(text, encoding="utf-8")
    content = load_content(content_copy)
    best = content.retriever.search("faut-il savoir faire une maquette ?").best
    assert best is not None and best.unit.markdown.endswith("- Prototypage")


def test_a_synonym_of_several_words_is_refused_with_its_line(content_copy: Path) -> None:
    path = content_copy / "synonymes.yaml"
    path.write_text("groups:\n  - [coût, prix]\n  - [fiche de poste, offre]\n", encoding="utf-8")
    found = problems(content_copy)
    assert any("synonymes.yaml, ligne 3" in p and "un seul mot" in p for p in found), found


def test_synonyms_file_is_optional_and_used(content_copy: Path) -> None:
    with_them = load_content(content_copy)
    assert with_them.retriever.analyzer.terms("sponsor") == with_them.retriever.analyzer.terms(
        "commanditaire"
    )
    (content_copy / "synonymes.yaml").unlink()
    without = load_content(content_copy)
    assert without.retriever.analyzer.terms("sponsor") != without.retriever.analyzer.terms(
        "commanditaire"
    )


def test_two_sections_with_the_same_subcommand_are_refused(content_copy: Path) -> None:
    path = content_copy / "certification.yaml"
    text = path.read_text(encoding="utf-8").replace("  - id: cout\n", "  - id: oral\n")
    path.write_text(text, encoding="utf-8")
    found = problems(content_copy)
    lines = path.read_text(encoding="utf-8").splitlines()
    second = [n for n, line in enumerate(lines, start=1) if line == "  - id: oral"][1]
    assert any(
        f"certification.yaml, ligne {second} :" in p and "même nom de sous-commande « oral »" in p
        for p in found
    ), found


def test_a_misspelt_questions_key_is_caught(content_copy: Path) -> None:
    path = content_copy / "role.yaml"
    text = path.read_text(encoding="utf-8").replace("    questions:\n", "    question:\n", 1)
    path.write_text(text, encoding="utf-8")
    found = problems(content_copy)
    assert any('champ inconnu "question" — vouliez-vous dire "questions" ?' in p for p in found)
