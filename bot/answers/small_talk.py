"""« bonjour », « merci ! », « salut le bot »: a short greeting back, not a search.

Small talk is no question about the content: it gets a short French reply that points to
`aide`, and it is neither counted as a question nor recorded as unanswered.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.chat import Reply
from bot.content.analysis import STOP_WORDS

# Words that open or close a conversation (folded, after the SMS forms are read).
GREETINGS = frozenset(
    ["bonjour", "bonsoir", "salut", "hello", "hi", "hey", "coucou", "yo", "re", "bjr", "cc", "allo"]
)
THANKS = frozenset(["merci", "thanks", "thank", "thx", "remercie", "remerciements"])
# Letters' closings count too: « Bien cordialement », « Je vous prie d'agréer… ».
FAREWELLS = frozenset(
    [
        "journee",
        "soiree",
        "weekend",
        "bye",
        "ciao",
        "tchao",
        "revoir",
        "cordialement",
        "salutations",
        "agreer",
    ]
)
# What may come with them without making a question (« merci beaucoup pour ton aide »,
# « hey ça va ? », « bonne journée », « cool merci », « salut le bot »).
COURTESY = frozenset(
    " ".join(
        (
            "a au beaucoup bien bon bonne bot intra intrabot la le les tous tout toi vous te",
            "ton ta votre pour ca va vas et semaine week end top au a",
            "super cool genial parfait nickel ok okay daccord you very much lot all",
            "aide infiniment encore madame monsieur equipe l un une mille fois c est",
            "tres clair clear great nice excellent sympa pratique utile efficace rapide there",
            "espere allez vais vas comment how are",
            "prie expression consideration distinguee distinguees sinceres respectueuses",
            "meilleures eclaircissements precisions reponse reponses explications",
        )
    ).split()
)

# « ça va le bot ? », « comment allez-vous ? », « how are you? »
HOW_ARE_YOU = (
    frozenset(["ca", "va"]),
    frozenset(["allez", "vous"]),
    frozenset(["how", "are", "you"]),
)
# « a+ », « @+ », « ++ »: goodbyes made of signs the analysis drops.
SIGN_OFFS = frozenset(["a+", "@+", "++", "a plus", "a+!"])
# Words a greeting may carry that are neither courtesy nor a question (« merci, génial »);
# two are a request (« traduis bonjour en espagnol »).
MAX_OTHER_WORDS = 1

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


def small_talk(folded: Sequence[str], raw: str = "") -> Reply | None:
    """The reply to a message made of greetings, thanks or goodbyes, else None.

    Besides those, a message may hold a few words of courtesy or of praise the bot does
    not know (« merci, c'est très clair ! », « hello there »), never a topic's word: the
    caller passes only messages tied to no topic."""
    if raw.strip().casefold() in SIGN_OFFS:
        return FAREWELL_REPLY
    if not folded:
        return None
    social = [w for w in folded if w in GREETINGS or w in THANKS or w in FAREWELLS]
    if not social and not any(phrase <= set(folded) for phrase in HOW_ARE_YOU):
        return None
    known = GREETINGS | THANKS | FAREWELLS | COURTESY
    others = [w for w in folded if w not in known and w not in STOP_WORDS]
    if len(others) > MAX_OTHER_WORDS:
        return None
    if any(w in THANKS for w in folded):
        return THANKS_REPLY
    if any(w in FAREWELLS for w in folded):
        return FAREWELL_REPLY
    return GREETING_REPLY
