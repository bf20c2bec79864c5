"""« bonjour », « merci ! », « salut le bot »: a short greeting back, not a search.

Small talk is no question about the content: it gets a short French reply that points to
`aide`, and it is neither counted as a question nor recorded as unanswered.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.chat import Reply

# Words that open or close a conversation (folded, after the SMS forms are read).
GREETINGS = frozenset(["bonjour", "bonsoir", "salut", "hello", "hi", "hey", "coucou", "yo", "re"])
THANKS = frozenset(["merci", "thanks", "thank", "thx", "remercie", "remerciements"])
FAREWELLS = frozenset(["journee", "soiree", "weekend", "bye", "ciao", "tchao", "revoir"])
# What may come with them without making a question (« merci beaucoup pour ton aide »,
# « hey ça va ? », « bonne journée », « cool merci », « salut le bot »).
COURTESY = frozenset(
    " ".join(
        (
            "a au beaucoup bien bon bonne bot intra intrabot la le les tous tout toi vous te",
            "ton ta votre pour ca va vas et semaine week end top au a",
            "super cool genial parfait nickel ok okay daccord you very much lot all",
            "aide infiniment encore madame monsieur equipe l un une mille fois c est",
        )
    ).split()
)

GREETING_REPLY = Reply(
    "👋 Bonjour ! Je suis **intra-bot**, l'assistant des intras. Posez-moi votre question "
    "(« qui sont les référents ? », « prochain club »…) ou tapez `/intra aide` pour voir "
    "ce que je sais."
)
FAREWELL_REPLY = Reply(
    "Bonne journée à vous aussi ! Je reste là : tapez `/intra aide` pour voir tous les sujets."
)
THANKS_REPLY = Reply(
    "Avec plaisir ! 😊 Une autre question ? Tapez `/intra aide` pour voir tous les sujets."
)


def small_talk(folded: Sequence[str]) -> Reply | None:
    """The reply to a message made only of greetings or thanks, else None."""
    known = GREETINGS | THANKS | FAREWELLS | COURTESY
    if not folded or any(word not in known for word in folded):
        return None
    if any(w in THANKS for w in folded):
        return THANKS_REPLY
    if any(w in FAREWELLS for w in folded):
        return FAREWELL_REPLY
    if any(w in GREETINGS for w in folded):
        return GREETING_REPLY
    return None
