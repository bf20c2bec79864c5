"""`/intra ressources <mot>`: the resources whose words share a stem with the typed ones."""

from __future__ import annotations

from functools import lru_cache

from bot.chat import Reply
from bot.content import Content
from bot.content_models import Resource
from bot.render import cap, resources_markdown
from bot.text import inline
from bot.typography import french


def resources_reply(rest: str, content: Content) -> Reply:
    analyzer = content.retriever.analyzer
    wanted = set(analyzer.terms(rest))
    chosen = [resource for resource, terms in _resource_terms(content) if wanted & terms]
    if not chosen:
        return Reply(
            french(
                f"Aucune ressource ne correspond à « {inline(rest)} ». "
                "Tapez `/intra ressources` pour la liste complète, "
                f"ou `/intra chercher {inline(rest, limit=40)}` pour chercher partout."
            )
        )
    title = f"### Ressources : « {inline(rest)} »"
    return Reply(cap(french(f"{title}\n\n{resources_markdown(chosen)}")))


@lru_cache(maxsize=16)
def _resource_terms(content: Content) -> tuple[tuple[Resource, frozenset[str]], ...]:
    analyzer = content.retriever.analyzer
    return tuple(
        (r, frozenset(analyzer.terms(" ".join([r.title, r.description, *r.keywords]))))
        for r in content.resources.resources
    )
