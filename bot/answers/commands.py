"""The one command table: the parser, `/intra aide` and `intra-bot setup` all read it.

A command is a word that is not a content topic. Its aliases are the words people type
for it (folded: no accents, lower case); its usage and description make its line in
`/intra aide`; `in_hint` puts it in the slash command's autocomplete hint.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    usage: str = ""  # "" : no line of its own in /intra aide
    description: str = ""
    in_hint: bool = True


COMMANDS: tuple[Command, ...] = (
    Command("aide", ("aide", "help", "aider", "commandes", "?")),
    Command(
        "chercher",
        ("chercher", "cherche", "recherche", "rechercher", "search", "trouver"),
        "chercher <mots>",
        "cherche dans tout le contenu",
    ),
    Command(
        "rejoindre",
        ("rejoindre", "acces", "invitation", "inviter", "adhesion"),
        "rejoindre [message]",
        "demander l'accès au canal privé ~{canal_prive}",  # the configured channel
    ),
    Command(
        "mes-abonnements",
        ("mes-abonnements", "abonnements", "mesabonnements"),
        "mes-abonnements",
        "vos rappels personnels (`/intra club prevenez-moi`, `/intra certification "
        "prevenez-moi`) et comment les arrêter",
    ),
    Command(
        "demandes",
        ("demandes", "demande"),
        "demandes",
        "(référents) les demandes d'accès en attente",
    ),
    Command(
        "accepter",
        ("accepter", "accepte"),
        "accepter <n°>",
        "(référents) accepter la demande d'accès n°",
        in_hint=False,
    ),
    Command(
        "refuser",
        ("refuser", "refuse"),
        "refuser <n°> [motif]",
        "(référents) refuser la demande d'accès n°, avec un motif transmis à la personne",
        in_hint=False,
    ),
    Command(
        "stats",
        ("stats", "statistiques"),
        "stats [jours]",
        "(référents) questions posées, restées sans réponse, demandes d'accès",
        in_hint=False,
    ),
)

# Commands that are not content topics, with the words people use for them.
COMMAND_ALIASES: dict[str, tuple[str, ...]] = {c.name: c.aliases for c in COMMANDS}
COMMAND_HELP: dict[str, tuple[str, str]] = {
    c.name: (c.usage, c.description) for c in COMMANDS if c.usage
}

# The slash command as the platform lists it (`intra-bot setup` registers these).
DISPLAY_NAME = "intra-bot"
DESCRIPTION = "L'assistant des intrapreneurs de beta.gouv.fr"
AUTOCOMPLETE_DESCRIPTION = (
    "Rôle, référents, certification, club, ressources… et l'accès au canal privé"
)


def command_of(word: str) -> str | None:
    """The command a folded word names, if any."""
    for command in COMMANDS:
        if word in command.aliases:
            return command.name
    return None


def hint_words(topics: Iterable[str]) -> list[str]:
    """The autocomplete hint's words: the topics, then the commands, « aide » last."""
    hinted = [c.name for c in COMMANDS if c.in_hint and c.name != "aide"]
    return [*topics, *hinted, "aide"]
