"""« c'est quand le prochain club ? », « la prochaine date » : a question about the club's
next date goes to the club's service, which answers with the date first, as `/intra club`
does. Pure: folded words in, a yes or no out."""

from __future__ import annotations

from collections.abc import Sequence

CLUB = "club"
# Words that ask when (folded, after the SMS forms are read).
WHEN = frozenset(
    " ".join(
        (
            "quand prochain prochaine date dates jour jours heure heures horaire horaires mois",
            "ci semaine bientot aujourd hui demain when next soon time",
        )
    ).split()
)
# Words that ask about a past club (« c'était quand le forum avec la remise des
# certifications ? »): the content answers those, not the agenda.
PAST = frozenset(["etait", "dernier", "derniere", "precedent", "avait", "last", "was", "depuis"])
# « comment serai-je prévenu des clubs ? » asks how, not when.
HOW = frozenset(["comment", "how", "prevenu", "prevenue", "informe", "informee"])
# The club's own names: « le forum commence à quelle heure ? » asks about the forum's
# day (10 h), not the club's hour.
CLUB_WORDS = frozenset(["club", "clubs", "codev"])
# « la prochaine date » names nothing: the club's is the only date the bot keeps.
NEXT = frozenset(["prochain", "prochaine", "next"])
DATE = frozenset(["date", "dates", "quand", "when"])


def asks_next_club(folded: Sequence[str], named: set[str], others: Sequence[str]) -> bool:
    """Does a question ask when the next club is?

    `named`: the topics its words name; `others`: its meaningful words that name none.
    """
    words = set(folded)
    if words & PAST or words & HOW or not words & WHEN:
        return False
    if named == {CLUB}:  # whatever else it says (« pourriez-vous m'indiquer… »)
        return bool(words & CLUB_WORDS) or bool(words & NEXT)
    return not named and bool(words & NEXT) and bool(words & DATE) and not (set(others) - WHEN)
