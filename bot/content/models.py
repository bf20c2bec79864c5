"""The shape of the YAML files in `content/`: one pydantic model per file kind.

The club's schedule and reminders are in `bot.content.schedule`.

Unknown keys are rejected everywhere so that a typo never silently drops a text.
Validation messages are in French: they are read by the people who edit content.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,63}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# A Matrix user id: @localpart:server (Tchap's: @prenom.nom-domaine.gouv.fr:agent.dinum.tchap.gouv.fr).
_MATRIX_ID = re.compile(r"^@[a-z0-9._=/+-]+:[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def _check(pattern: re.Pattern[str], advice: str) -> AfterValidator:
    def validate(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"« {value} » : {advice}")
        return value

    return AfterValidator(validate)


Url = Annotated[str, _check(_URL, "adresse invalide, elle doit commencer par https://")]
Email = Annotated[
    str, _check(_EMAIL, "adresse e-mail invalide (exemple : prenom.nom@beta.gouv.fr)")
]
Username = Annotated[
    str,
    _check(
        _USERNAME, "identifiant Mattermost invalide (minuscules, chiffres, « . », « - », « _ »)"
    ),
]
MatrixId = Annotated[
    str,
    _check(
        _MATRIX_ID,
        "identifiant Tchap invalide : il a la forme @prenom.nom-domaine.gouv.fr:serveur "
        "(copiez-le depuis le profil Tchap de la personne)",
    ),
]
Slug = Annotated[str, _check(_SLUG, "nom invalide (minuscules, chiffres et tirets, sans espace)")]
Text = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Link(Strict):
    title: Text
    url: Url


Questions = Annotated[
    list[Text], Field(description="paraphrases people type, e.g. « c'est combien ? »")
]


class Item(Strict):
    """One entry of a section's list: plain text, or `text` with its own `questions`."""

    text: Text
    questions: Questions = []

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, value: object) -> object:
        return {"text": value} if isinstance(value, str) else value

    def __str__(self) -> str:
        return self.text


class Section(Strict):
    id: Slug | None = Field(None, description="sub-command name; default: from the title")
    title: Text
    text: str = ""
    items: list[Item] = []
    questions: Questions = []
    keywords: list[Text] = []

    @model_validator(mode="after")
    def _not_empty(self) -> Section:
        if not self.text and not self.items:
            raise ValueError(f"la section « {self.title} » n'a ni « text » ni « items »")
        return self


class Topic(Strict):
    """A subject the bot answers about: `/intra <id>` or one of its aliases."""

    id: Slug
    title: Text
    aliases: list[Text] = []
    description: Text = Field(description="one line, shown in the help")
    summary: Text
    sections: list[Section] = []
    links: list[Link] = []
    keywords: list[Text] = []
    questions: Questions = []
    sources: list[Url] = Field(min_length=1)


class Accounts(Strict):
    """A person's account on each chat platform (empty: none known on this deployment)."""

    mattermost: Username | None = None
    tchap: MatrixId | None = None

    def on(self, platform: str) -> str | None:
        """The account on a platform, by the name the code gives it ("matrix" is Tchap)."""
        return {"mattermost": self.mattermost, "matrix": self.tchap}.get(platform)

    def shown(self) -> list[tuple[str, str]]:
        """(platform as people call it, account) for each known account."""
        known = [("Mattermost", self.mattermost), ("Tchap", self.tchap)]
        return [(label, account) for label, account in known if account]


class Referent(Strict):
    name: Text
    role: Text
    email: Email
    comptes: Accounts = Accounts()
    handles_invitations: bool = False
    questions: Questions = []

    @model_validator(mode="before")
    @classmethod
    def _legacy_mattermost(cls, value: object) -> object:
        # Before `comptes`, the Mattermost username was a top-level `mattermost:`: still read.
        if isinstance(value, dict) and "mattermost" in value:
            value = dict(value)
            legacy = value.pop("mattermost")
            accounts = dict(value.get("comptes") or {})
            if accounts.get("mattermost") not in (None, legacy):
                raise ValueError(
                    "« mattermost » est donné deux fois (en haut et dans « comptes ») : "
                    "gardez seulement celui de « comptes »"
                )
            value["comptes"] = {**accounts, "mattermost": legacy}
        return value


class ReferentsTopic(Topic):
    referents: list[Referent] = Field(min_length=1)


class Channel(Strict):
    name: Slug
    display_name: Text
    visibility: Literal["public", "prive"]
    url: Url
    description: Text
    how_to_join: Text
    questions: Questions = []


class ChannelsTopic(Topic):
    channels: list[Channel] = Field(min_length=1)


class Resource(Strict):
    title: Text
    url: Url
    kind: Literal["outil", "article", "guide"]
    description: str = ""
    keywords: list[Text] = []
    questions: Questions = []


class ResourcesTopic(Topic):
    resources: list[Resource] = Field(min_length=1)


class Welcome(Strict):
    enabled: bool = True
    text: Text


class Messages(Strict):
    """The bot's own sentences: help, not understood, Mattermost-only commands, welcome."""

    help_intro: Text
    help_footer: Text
    no_answer: Text = Field(description="first line of the honest answer; {texte}: the question")
    no_answer_help: Text = Field(
        description="who can help, after no_answer; {referents}: names and e-mails"
    )
    no_answer_certification: Text | None = Field(
        None,
        description="who can help when the nearest topic is the certification; "
        "absent: no_answer_help",
    )
    mattermost_only: Text
    welcome: Welcome


def _single_word(word: str) -> str:
    if len(word.split()) != 1:
        raise ValueError(
            f"« {word} » : un synonyme est un seul mot — "
            "ajoutez plutôt l'expression dans les « questions » d'une section"
        )
    return word


SynonymWord = Annotated[str, Field(min_length=1), AfterValidator(_single_word)]


class Synonyms(Strict):
    """`content/synonymes.yaml`: groups of words that mean the same for the search."""

    groups: list[Annotated[list[SynonymWord], Field(min_length=2)]] = []
