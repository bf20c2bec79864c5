"""`/intra chercher <mots>`: the three best units of the whole content, one line each."""

from __future__ import annotations

from functools import lru_cache

from bot.answers.render import cap
from bot.chat import Reply
from bot.content.analysis import content_words
from bot.content.loader import Content
from bot.content.typography import french
from bot.text import inline


def search_reply(rest: str, content: Content) -> Reply:
    if not content_words(rest):
        return Reply(
            "Que voulez-vous chercher ? Par exemple : `/intra chercher budget` "
            "ou `/intra chercher entretien annuel`."
        )
    ranked = content.retriever.search(rest).ranked[:3]
    if not ranked:
        return Reply(
            french(
                f"Je n'ai rien trouvé pour « {inline(rest)} ». "
                "Essayez d'autres mots, ou tapez `/intra aide` pour voir les sujets."
            )
        )
    head = french(f"Résultats pour « {inline(rest)} » :")
    return Reply(
        cap("\n".join([head, "", *(_search_line(content, hit.unit.id) for hit in ranked)]))
    )


@lru_cache(maxsize=1024)
def _search_line(content: Content, unit_id: str) -> str:
    """One hit of `/intra chercher`, typeset once per unit."""
    unit = content.retriever.by_id[unit_id]
    topic = content.topics[unit.topic_id]
    # A topic's overview is the topic itself: its title once, not « Ressources (Ressources) ».
    where = "" if unit.id == topic.id or unit.title == topic.title else f" ({topic.title})"
    title = topic.title if unit.id == topic.id else unit.title
    return french(
        f"- **{title}**{where} — {_shorten(unit.text or unit.markdown)} · `{unit.command}`"
    )


def _shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
