"""« /intra club prevenez-moi », « /intra certification stop »: an action on a topic.

After the name of a topic someone can subscribe to, these words are not a question about
the topic but an action its subscription service performs (bot/subscriptions/). Pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.chat import Reply
from bot.content.typography import french
from bot.text import fold

if TYPE_CHECKING:
    from bot.content.loader import Content

SUBSCRIBE, STOP = "prevenez-moi", "stop"
# The topics a person can be told about personally.
SUBSCRIBABLE = ("club", "certification")
# The words people type for each action, folded (no accents, lower case).
_ACTIONS = {
    SUBSCRIBE: (
        "prevenez-moi",
        "prevenez moi",
        "previens-moi",
        "previens moi",
        "prevenir",
        "abonner",
        "m'abonner",
        "abonnement",
        "s'abonner",
        "rappel",
        "rappelle-moi",
    ),
    STOP: ("stop", "arreter", "arret", "desabonner", "me desabonner", "se desabonner"),
}
_LOOKUP = {alias: action for action, aliases in _ACTIONS.items() for alias in aliases}


def topic_action(topic_id: str, rest: str) -> str | None:
    """The action `rest` names after the topic `topic_id`, if it is one a person can
    subscribe to and `rest` is nothing but the action's words."""
    if topic_id not in SUBSCRIBABLE:
        return None
    return _LOOKUP.get(fold(rest).replace("’", "'").strip(" ?!.,;:«»\"'"))


# Where there is no chat platform (the console, `intra-bot ask`), nobody can be told later.
ELSEWHERE = (
    "Les rappels personnels s'utilisent sur Mattermost ou sur Tchap : tapez par exemple "
    "`/intra club prevenez-moi` ; `/intra mes-abonnements` les liste."
)


def elsewhere(_rest: str, _content: Content) -> Reply:
    """`/intra mes-abonnements` and the actions where there is no chat platform."""
    return Reply(french(ELSEWHERE))


def action_target(topic_id: str, action: str) -> str:
    """The name a service registers the action under (`Conversation.serve_topic_action`)."""
    return f"{topic_id} {action}"
