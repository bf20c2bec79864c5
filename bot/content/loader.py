"""Load `content/*.yaml` into validated, immutable models, once; reload on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.content.analysis import Analyzer
from bot.content.certification import CertificationTopic
from bot.content.errors import (
    ContentError,
    Problem,
    key_lines,
    line_of,
    shown,
    syntax_problem,
    validation_problems,
)
from bot.content.lexicon import everyday_words
from bot.content.models import (
    ChannelsTopic,
    Messages,
    ReferentsTopic,
    ResourcesTopic,
    Synonyms,
    Topic,
)
from bot.content.retrieval import Retriever
from bot.content.schedule import ClubTopic
from bot.content.units import section_id, units_of
from bot.text import fold

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"

# Topic id -> the model its file must follow. The order is the order of the help.
TOPIC_MODELS: dict[str, type[Topic]] = {
    "role": Topic,
    "referents": ReferentsTopic,
    "certification": CertificationTopic,
    "carriere": Topic,
    "canaux": ChannelsTopic,
    "club": ClubTopic,
    "embarquement": Topic,
    "ressources": ResourcesTopic,
}

# Optional: groups of words the search treats as one (editors maintain it).
SYNONYMS_FILE = "synonymes.yaml"

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T", bound=Topic)

# libyaml's loader when PyYAML was built with it (the wheels are): several times faster.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, eq=False)
class Content:
    """Everything the bot knows, validated. Immutable: a reload builds a new one."""

    directory: Path
    topics: dict[str, Topic]
    messages: Messages
    aliases: dict[str, str] = field(repr=False)
    retriever: Retriever = field(repr=False)
    synonyms: Synonyms = field(default_factory=Synonyms, repr=False)

    @property
    def referents(self) -> ReferentsTopic:
        return self._topic("referents", ReferentsTopic)

    @property
    def channels(self) -> ChannelsTopic:
        return self._topic("canaux", ChannelsTopic)

    @property
    def resources(self) -> ResourcesTopic:
        return self._topic("ressources", ResourcesTopic)

    @property
    def certification(self) -> CertificationTopic:
        return self._topic("certification", CertificationTopic)

    @property
    def club(self) -> ClubTopic:
        return self._topic("club", ClubTopic)

    def _topic(self, topic_id: str, kind: type[T]) -> T:
        """A topic with its own model; the loader guarantees its type (`TOPIC_MODELS`)."""
        topic = self.topics[topic_id]
        assert isinstance(topic, kind)
        return topic


class ContentSource:
    """The content in use, swapped whole on reload; a bad reload keeps the previous one."""

    def __init__(self, directory: Path | str = DEFAULT_CONTENT_DIR) -> None:
        self.directory = Path(directory)
        self.current = load_content(self.directory)
        self.last_error: ContentError | None = None

    @classmethod
    def of(cls, content: Content) -> ContentSource:
        """A source around content already loaded."""
        source = cls.__new__(cls)
        source.directory = content.directory
        source.current = content
        source.last_error = None
        return source

    def reload(self) -> ContentError | None:
        try:
            self.current = load_content(self.directory)
        except ContentError as error:
            self.last_error = error
            return error
        self.last_error = None
        return None


def load_content(directory: Path | str = DEFAULT_CONTENT_DIR) -> Content:
    """Read and validate every content file; raise `ContentError` listing all problems."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ContentError(
            [
                Problem(
                    shown(directory),
                    None,
                    "dossier de contenu introuvable — indiquez le bon dossier avec --content "
                    "ou la variable INTRA_BOT_CONTENT__DIR.",
                )
            ]
        )
    problems: list[Problem] = []
    topics: dict[str, Topic] = {}
    for topic_id, model in TOPIC_MODELS.items():
        topic = _load_file(directory / f"{topic_id}.yaml", model, problems)
        if topic is None:
            continue
        if topic.id != topic_id:
            problems.append(
                Problem(
                    shown(directory / f"{topic_id}.yaml"),
                    line_of(directory / f"{topic_id}.yaml", ("id",)),
                    f"« id: {topic.id} » ne correspond pas au nom du fichier — écrivez « id: {topic_id} ».",
                )
            )
        topics[topic_id] = topic
    messages = _load_file(directory / "messages.yaml", Messages, problems)
    aliases = _alias_table(directory, topics, problems)
    _check_section_ids(directory, topics, problems)
    synonyms = Synonyms()
    if (directory / SYNONYMS_FILE).exists():
        synonyms = _load_file(directory / SYNONYMS_FILE, Synonyms, problems) or synonyms
    if problems or messages is None:
        raise ContentError(problems)
    analyzer = Analyzer.with_groups(synonyms.groups)
    return Content(
        directory=directory,
        topics=topics,
        messages=messages,
        aliases=aliases,
        retriever=Retriever(units_of(topics.values()), analyzer, everyday_words()),
        synonyms=synonyms,
    )


def _check_section_ids(directory: Path, topics: dict[str, Topic], problems: list[Problem]) -> None:
    """Two sections of a topic with the same sub-command would hide one of them."""
    for topic_id, topic in topics.items():
        seen: dict[str, str] = {}
        for index, section in enumerate(topic.sections):
            name = section_id(section)
            if name in seen:
                path = directory / f"{topic_id}.yaml"
                problems.append(
                    Problem(
                        shown(path),
                        line_of(path, ("sections", index)),
                        f"la section « {section.title} » a le même nom de sous-commande "
                        f"« {name} » que « {seen[name]} » — ajoutez-lui un « id: » différent.",
                    )
                )
            seen[name] = section.title


def _load_file(path: Path, model: type[M], problems: list[Problem]) -> M | None:
    where = shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(
            Problem(where, None, "fichier manquant — recréez-le (voir content/README.md).")
        )
        return None
    except (OSError, UnicodeDecodeError) as error:
        problems.append(
            Problem(where, None, f"fichier illisible ({error}) — enregistrez-le en UTF-8.")
        )
        return None
    try:
        data: Any = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as error:
        problems.append(syntax_problem(where, error))
        return None
    if not isinstance(data, dict):
        problems.append(
            Problem(
                where, 1, "le fichier doit contenir des champs « clé: valeur » (il est vide ?)."
            )
        )
        return None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        # Line numbers cost a second, slower parse: only pay for it when there is a problem.
        problems.extend(validation_problems(where, error, key_lines(text), model))
        return None


def _alias_table(
    directory: Path, topics: dict[str, Topic], problems: list[Problem]
) -> dict[str, str]:
    """Folded name or alias -> topic id; an alias claimed by two topics is a problem."""
    table: dict[str, str] = {}
    for topic_id, topic in topics.items():
        for index, name in enumerate([topic_id, *topic.aliases]):
            key = " ".join(fold(name).split())
            owner = table.setdefault(key, topic_id)
            if owner != topic_id:
                path = directory / f"{topic_id}.yaml"
                problems.append(
                    Problem(
                        shown(path),
                        line_of(path, ("aliases", index - 1)),
                        f"l'alias « {name} » est déjà utilisé par « {owner} » — choisissez-en un autre.",
                    )
                )
    return table
