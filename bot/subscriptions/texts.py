"""Every sentence of the subscriptions, in French. Pure.

Commands are written the content's way (`/intra …`); `bot.speech` words them for the
platform each reply goes to (`!intra …` on Tchap).
"""

from __future__ import annotations

from bot import french as french_dates
from bot.content.certification import CertificationSession
from bot.content.typography import french
from bot.subscriptions.schema import CERTIFICATION, CLUB

# What each kind is, in a list of subscriptions.
NAMES = {
    CLUB: "le club intras : un message la veille de chaque club, avec l'invitation pour votre agenda",
    CERTIFICATION: "la certification : le lien d'inscription dès qu'une session est publiée, "
    "puis un rappel avant la date limite",
}
STOP_LINES = {
    CLUB: "_Pour ne plus recevoir ces rappels : `/intra club stop`._",
    CERTIFICATION: "_Pour ne plus recevoir ces messages : `/intra certification stop`._",
}


def subscribed(kind: str, *, already: bool, extra: str = "") -> str:
    head = "C'était déjà noté" if already else "✅ C'est noté"
    if kind == CLUB:
        body = (
            f"{head} : je vous préviendrai par message privé la veille de chaque club intras, "
            "avec la date, l'heure, comment y participer et une invitation pour votre agenda."
        )
    else:
        body = (
            f"{head} : dès qu'une session de certification est publiée, je vous envoie son "
            "lien d'inscription par message privé, puis un rappel quelques jours avant la date "
            "limite. L'abonnement reste actif pour les sessions suivantes."
        )
    if extra:
        body = f"{body}\n\n{extra}"
    return french(f"{body}\n\n{STOP_LINES[kind]}")


def open_session(session: CertificationSession) -> str:
    """A session open now, for who subscribes after its announcement."""
    deadline = french_dates.day(session.deadline, year=True)
    return (
        f"🎓 Une session est ouverte : {session.title}, inscriptions jusqu'au {deadline} : "
        f"{session.signup_url}"
    )


def stopped(kind: str, *, was_active: bool) -> str:
    what = "le club intras" if kind == CLUB else "la certification"
    if not was_active:
        return french(f"Vous n'aviez pas de rappel personnel pour {what} : rien à arrêter.")
    again = "`/intra club prevenez-moi`" if kind == CLUB else "`/intra certification prevenez-moi`"
    return french(
        f"C'est arrêté : vous ne recevrez plus de message personnel pour {what}. "
        f"Pour les retrouver : {again}."
    )


def listing(kinds: list[str]) -> str:
    if not kinds:
        return french(
            "Vous n'avez aucun rappel personnel. Pour être prévenu par message privé :\n"
            "- `/intra club prevenez-moi` : la veille de chaque club intras ;\n"
            "- `/intra certification prevenez-moi` : à chaque session de certification."
        )
    lines = ["Vos rappels personnels, ici :"]
    for kind in kinds:
        lines.append(f"- {NAMES[kind]}. {STOP_LINES[kind]}")
    return french("\n".join(lines))
