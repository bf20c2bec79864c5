"""Content topics named like a command: `intra-bot check` reports them to the editors.

The parser looks a word up in the content first, so a topic whose id or alias is also a
command word (« rejoindre », « aide »…) would silently take the command's place.
"""

from __future__ import annotations

from bot.answers.commands import command_of
from bot.content.errors import Location, Problem, line_of, shown
from bot.content.loader import Content
from bot.text import fold


def command_clashes(content: Content) -> list[Problem]:
    """One problem per topic id or alias that is also a command word, with its file:line."""
    problems = []
    for topic_id, topic in content.topics.items():
        path = content.directory / f"{topic_id}.yaml"
        names: list[tuple[str, Location]] = [(topic_id, ("id",))]
        names += [(alias, ("aliases", index)) for index, alias in enumerate(topic.aliases)]
        for name, where in names:
            command = command_of(" ".join(fold(name).split()))
            if command is not None:
                problems.append(
                    Problem(
                        shown(path),
                        line_of(path, where),
                        f"« {name} » est aussi une commande (`/intra {command}`) : "
                        "ce sujet la cacherait — choisissez un autre nom.",
                    )
                )
    return problems
