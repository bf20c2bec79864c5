"""`/intra ressources <mot>`: the resources whose words share a stem with the typed ones."""

from __future__ import annotations

from functools import lru_cache

from bot.answers.render import cap, resources_markdown
from bot.chat import Reply
from bot.content.loader import Content
from bot.content.models import Resource
from bot.content.typography import french
from bot.text import Form, defuse, inline


def resources_reply(rest: str, content: Content) -> Reply:
    analyzer = content.retriever.analyzer
    wanted = set(analyzer.terms(rest))
    chosen = tuple(n for n, (_, terms) in enumerate(_resource_terms(content)) if wanted & terms)
    if not chosen:
        return Reply(
            french(
                f"Aucune ressource ne correspond à « {inline(rest)} ». "
                "Tapez `/intra ressources` pour la liste complète, "
                f"ou `/intra chercher {defuse(rest, limit=40, form=Form.CODE)}` pour chercher partout."
            )
        )
    title = french(f"### Ressources : « {inline(rest)} »")
    return Reply(cap(f"{title}\n\n{_typeset(content, chosen)}"))


@lru_cache(maxsize=256)
def _typeset(content: Content, chosen: tuple[int, ...]) -> str:
    """The chosen resources (by position), typeset once per choice."""
    resources = content.resources.resources
    return french(resources_markdown([resources[n] for n in chosen]))


@lru_cache(maxsize=16)
def _resource_terms(content: Content) -> tuple[tuple[Resource, frozenset[str]], ...]:
    analyzer = content.retriever.analyzer
    return tuple(
        (r, frozenset(analyzer.terms(" ".join([r.title, r.description, *r.keywords]))))
        for r in content.resources.resources
    )
