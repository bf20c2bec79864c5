"""The French texts of invitations: the referents' notice, outcomes, replies."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot import french
from bot.chat import Button, ButtonStyle, Dialog, User
from bot.config import DEFAULT_TIMEZONE
from bot.invitations.records import ACCEPTED, DECLINED, Invitation
from bot.speech import place
from bot.text import Form, defuse, inline

# The zone of the dates people read; the configured default (`bot.config.DEFAULT_TIMEZONE`).
LOCAL_ZONE = ZoneInfo(DEFAULT_TIMEZONE)
MESSAGE_LIMIT = 500
# People edit these profile fields themselves: each is defused and capped like a message.
NAME_LIMIT = 80
POSITION_LIMIT = 120
USERNAME_LIMIT = 64
ACCEPT, DECLINE = "accept", "decline"
ACCEPT_EMOJI, DECLINE_EMOJI = "✅", "❌"


def clean(text: str) -> str:
    text = text.strip().strip('"«»“”').strip()
    return text[: MESSAGE_LIMIT * 2]


def french_date(moment: dt.datetime, zone: ZoneInfo = LOCAL_ZONE) -> str:
    """« jeudi 2 avril à 16 h » (the day and hour `moment` is in `zone`)."""
    local = moment.astimezone(zone)
    return f"{french.day(local.date())} à {french.hour(local)}"


def at_username(name: str) -> str:
    """A username as the bot shows it: « `@name` », in a code span where nothing fires."""
    return f"`@{defuse(name.lstrip('@'), limit=USERNAME_LIMIT, form=Form.CODE)}`"


REFERENTS_ONLY = "Seules les référentes des intras peuvent traiter les demandes d'accès."
NOT_IDENTIFIED = "Je n'ai pas pu vous identifier, réessayez."
UNKNOWN_ACTION = "Action inconnue."
BUTTON_EXPIRED = (
    "Ce bouton a expiré. Tapez `/intra demandes` pour voir les demandes encore en attente "
    "et les traiter."
)
DIALOG_FAILED = "Je n'ai pas pu ouvrir la fenêtre de refus ; réessayez, ou tapez `/intra demandes`."
SOMEONE = "quelqu'un"
PLATFORM_UNAVAILABLE = "Mattermost ne répond pas ; réessayez dans quelques minutes."
RETRY_SOON = "Je ne peux pas joindre la messagerie pour l'instant : réessayez dans un instant."
NOT_DELIVERED = (
    "Votre demande est enregistrée, mais je n'ai pas pu prévenir les référentes pour "
    "l'instant : je réessaierai. Elles la verront aussi avec `{command} demandes` ; vous "
    "pouvez aussi leur écrire (`{command} referents`)."
)
NO_NUMBER = (
    "Indiquez le numéro de la demande, par exemple `{command} {verb} 12` "
    "(il figure dans le message de la demande, et dans `{command} demandes`)."
)
NO_SUCH_NUMBER = (
    "Je ne trouve pas de demande n° {number}. Tapez `{command} demandes` pour la liste."
)
OTHER_PLATFORM = (
    "Cette demande a été faite sur {platform} : elle se traite depuis {platform}, "
    "où la personne sera ajoutée."
)

NOT_IN_TEAM = (
    "la personne ne fait plus partie de l'équipe : ajoutez-la d'abord à l'équipe, "
    "puis acceptez à nouveau."
)


def _by(who: str) -> str:
    """« par `@x` » (a Mattermost username or a Matrix id, one « @ » either way), or
    nothing when the record does not say who (`SOMEONE`)."""
    return f" par {at_username(who)}" if who.strip() and who != SOMEONE else ""


def already_decided(who: str) -> str:
    return f"Cette demande a déjà été traitée{_by(who)}."


def in_progress(who: str) -> str:
    return (
        f"Cette demande est en cours de traitement{_by(who)} : "
        "rien à faire de votre côté, vous verrez le résultat ici dans un instant."
    )


def decline_dialog(invitation: Invitation) -> Dialog:
    return Dialog(
        title="Refuser la demande",
        introduction=f"Refuser la demande de {at_username(invitation.requester_username)} ? "
        "La personne sera prévenue, avec votre mot s'il y en a un.",
        submit_label="Refuser",
        field_label="Un mot pour la personne (facultatif)",
        placeholder="Par exemple : ce canal est réservé aux intras en poste.",
        max_length=MESSAGE_LIMIT,
    )


def cannot_add(bot: str, channel: str) -> str:
    """The bot lacks the right to add people: how a referent fixes it on Mattermost."""
    return (
        f"{bot} n'est pas (ou plus) membre de {channel}, ou n'a pas le droit d'y ajouter quelqu'un. "
        f"Dans {channel}, tapez `/invite {bot}`, puis nommez-le administrateur du canal "
        "(Membres › Rendre administrateur du canal)."
    )


MATRIX_UNAVAILABLE = "Tchap ne répond pas ; réessayez dans quelques minutes."


def cannot_invite(bot: str, room: str) -> str:
    """The bot may not invite into the private room: how a room admin fixes it on Tchap."""
    return (
        f"{bot} n'est pas (ou plus) membre du salon {room}, ou son niveau ne lui permet pas "
        "d'inviter. Dans les paramètres du salon › Rôles et permissions, nommez-le "
        "modérateur (niveau 50) et vérifiez que « Inviter des personnes » demande au plus "
        "ce niveau ; invitez-le d'abord s'il n'y est plus."
    )


def add_refused(status: int, error_id: str) -> str:
    return f"Mattermost a refusé l'ajout (erreur {status} {error_id})."


def already_pending(invitation: Invitation, channel: str) -> str:
    return (
        f"Votre demande pour rejoindre {channel} est en attente depuis le {french_date(invitation.created_at)}. "
        "Les référentes vont la traiter ; inutile d'en refaire une."
    )


def buttons(invitation: Invitation) -> tuple[Button, ...]:
    return (
        Button("Accepter", ACCEPT, invitation.id, ButtonStyle.PRIMARY, ACCEPT_EMOJI),
        Button("Refuser", DECLINE, invitation.id, ButtonStyle.DANGER, DECLINE_EMOJI),
    )


def how_to_decide(invitation: Invitation, command: str) -> str:
    """The typed fallback (`command`: the command word of the request's platform), and
    on a platform without buttons the reactions to use."""
    typed = (
        f"`{command} accepter {invitation.number}` ou `{command} refuser {invitation.number} "
        "[motif]`"
    )
    if invitation.platform == "mattermost":
        return f"_Demande n° {invitation.number} — les boutons ci-dessous, ou {typed}._"
    return (
        f"_Demande n° {invitation.number} — réagissez avec {ACCEPT_EMOJI} pour accepter ou "
        f"{DECLINE_EMOJI} pour refuser, ou tapez {typed}._"
    )


def request_sent(channel: str) -> str:
    return (
        f"C'est noté ! Votre demande pour rejoindre {channel} a été transmise aux référentes "
        "des intras. Vous recevrez un message dès qu'elle sera traitée."
    )


def declined_recently(invitation: Invitation, again: dt.datetime, command: str) -> str:
    return (
        f"Votre demande du {french_date(invitation.created_at)} n'a pas été acceptée. "
        f"Vous pourrez en faire une nouvelle à partir du {french.day(again.date(), year=True)}. "
        f"En attendant, vous pouvez écrire aux référentes (`{command} referents`)."
    )


def accepted_text(decider: str, channel: str) -> str:
    return (
        f"🎉 Bonne nouvelle : votre demande a été acceptée par {at_username(decider)}. "
        f"Bienvenue dans {channel} !"
    )


def declined_text(decider: str, reason: str, channel: str, command: str) -> str:
    text = f"Votre demande pour rejoindre {channel} n'a pas été acceptée cette fois-ci."
    if reason:
        text += f"\n\nLe mot de {at_username(decider)} :\n{defuse(reason, limit=MESSAGE_LIMIT)}"
    return text + f"\n\nPour toute question, écrivez aux référentes (`{command} referents`)."


def recall_text(count: int, channel: str, days: int, command: str) -> str:
    plural = count > 1
    return (
        f"📬 {count} demande{'s' if plural else ''} d'accès à {channel} "
        f"attend{'ent' if plural else ''} depuis plus de {days} jours. "
        f"Tapez `{command} demandes` pour les traiter."
    )


def notice_text(
    invitation: Invitation, profile: User | None, channel: str, *, short: bool = False
) -> str:
    who = at_username(invitation.requester_username)
    if profile is not None and profile.full_name.strip():
        who = f"**{inline(profile.full_name, limit=NAME_LIMIT)}** ({who})"
    if profile is not None and profile.position.strip():
        who += f", {inline(profile.position, limit=POSITION_LIMIT)}"
    lines = [] if short else [f"#### 📬 Demande d'accès à {place(channel)}"]
    lines.append(
        f"{who} demande à rejoindre {place(channel)} — le {french_date(invitation.created_at)}."
    )
    if invitation.message:
        lines.append(defuse(invitation.message, limit=MESSAGE_LIMIT))
    else:
        lines.append("_(pas de message)_")
    return "\n".join(lines)


def outcome(invitation: Invitation) -> str:
    moment = french_date(invitation.decided_at) if invitation.decided_at else ""
    if invitation.state == ACCEPTED:
        return f"✅ **Acceptée** par {at_username(invitation.decided_by)} le {moment} : la personne a été ajoutée au canal."
    if invitation.state == DECLINED:
        reason = (
            f" (motif transmis : {inline(invitation.reason, limit=200)})"
            if invitation.reason
            else ""
        )
        return f"❌ **Refusée** par {at_username(invitation.decided_by)} le {moment}{reason}."
    return "⏳ En cours de traitement."
