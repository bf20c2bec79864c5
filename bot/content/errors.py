"""Turn YAML and validation failures into messages an editor can act on.

Each problem names the file, the line, the field, and what to do, in French:
« content/referents.yaml, ligne 12 : champ inconnu "emial" — vouliez-vous dire "email" ? »
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}, ligne {self.line}" if self.line else f"{self.path}"
        return f"{where} : {self.message}"


class ContentError(Exception):
    """The content cannot be used; `problems` says why, one entry per mistake."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def line_of(path: Path, where: Location) -> int | None:
    """The line of the key at `where` in the YAML file `path`, if it can be read."""
    try:
        return key_lines(path.read_text(encoding="utf-8")).get(where)
    except (OSError, yaml.YAMLError):
        return None


def shown(path: Path) -> Path:
    """The path as an editor knows it: relative to the working directory when possible."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def key_lines(text: str) -> dict[Location, int]:
    """Map each key path of a YAML document to its 1-based line number."""
    lines: dict[Location, int] = {(): 1}

    def walk(node: yaml.Node, here: Location) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                where = (*here, str(key.value))
                lines[where] = key.start_mark.line + 1
                walk(value, where)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                where = (*here, index)
                lines[where] = item.start_mark.line + 1
                walk(item, where)

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return lines


def syntax_problem(path: Path, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    detail = getattr(error, "problem", None) or str(error)
    return Problem(
        path,
        line,
        f"YAML invalide ({detail}) — vérifiez l'indentation (des espaces, pas de tabulation), "
        "les « : » après chaque clé, et mettez entre guillemets un texte qui contient « : » ou « # ».",
    )


def validation_problems(
    path: Path, error: ValidationError, lines: Mapping[Location, int], model: type[BaseModel]
) -> list[Problem]:
    problems = [_problem(path, item, lines, model) for item in error.errors()]
    return sorted(problems, key=lambda problem: problem.line or 0)


def _problem(
    path: Path, item: Any, lines: Mapping[Location, int], model: type[BaseModel]
) -> Problem:
    loc: Location = tuple(item["loc"])
    field = _field_name(loc)
    kind = item["type"]
    line = _line_of(loc, lines)
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        hint = (
            f'vouliez-vous dire "{close[0]}" ?'
            if close
            else f"champs possibles : {', '.join(allowed)}"
        )
        return Problem(path, line, f'champ inconnu "{loc[-1]}" — {hint}')
    if kind == "missing":
        return Problem(path, line, f'champ obligatoire "{field}" manquant — ajoutez-le.')
    expected = _EXPECTED.get(kind)
    if expected:
        return Problem(path, line, f'le champ "{field}" doit être {expected}.')
    if kind == "too_short":
        return Problem(path, line, f'le champ "{field}" est vide — remplissez-le.')
    if kind == "literal_error":
        choices = item.get("ctx", {}).get("expected", "")
        return Problem(
            path, line, f'valeur invalide pour "{field}" — valeurs possibles : {choices}.'
        )
    message = str(item["msg"]).removeprefix("Value error, ")
    return Problem(path, line, f'"{field}" : {message}')


_EXPECTED = {
    "string_type": "un texte",
    "list_type": "une liste (des lignes qui commencent par « - »)",
    "bool_type": "oui ou non (true ou false)",
    "bool_parsing": "oui ou non (true ou false)",
    "dict_type": "un groupe de champs (clé: valeur)",
    "model_type": "un groupe de champs (clé: valeur)",
    "model_attributes_type": "un groupe de champs (clé: valeur)",
    "int_type": "un nombre entier",
    "int_parsing": "un nombre entier",
    "date_type": "une date (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "une date (AAAA-MM-JJ)",
    "time_type": "une heure (HH:MM)",
    "time_parsing": "une heure (HH:MM)",
}


def _field_name(loc: Location) -> str:
    names = [str(part) for part in loc if isinstance(part, str)]
    return ".".join(names) if names else "(document)"


def _line_of(loc: Location, lines: Mapping[Location, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _fields_at(model: type[BaseModel], loc: Location) -> list[str]:
    """The field names allowed at `loc` inside `model` (for « did you mean »)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    """The model inside `list[X]`, `X | None`, `Annotated[X, ...]`."""
    origin = typing.get_origin(annotation)
    if origin is None:
        return annotation
    if origin in (list, tuple, set, frozenset, types.UnionType, typing.Union, typing.Annotated):
        for arg in typing.get_args(annotation):
            inner = _inner_model(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None
