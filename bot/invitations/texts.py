"""The French texts of invitations: the referents' notice, outcomes, replies."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot import french
from bot.chat import Button, ButtonStyle, User
from bot.invitations.records import ACCEPTED, DECLINED, Invitation
from bot.text import Form, defuse, inline

PARIS = ZoneInfo("Europe/Paris")
MESSAGE_LIMIT = 500
# People edit these profile fields themselves: each is defused and capped like a message.
NAME_LIMIT = 80
POSITION_LIMIT = 120
USERNAME_LIMIT = 64
ACCEPT, DECLINE = "accept", "decline"


def clean(text: str) -> str:
    text = text.strip().strip('"«»“”').strip()
    return text[: MESSAGE_LIMIT * 2]


def when(moment: dt.datetime) -> str:
    local = moment.astimezone(PARIS)
    return f"{french.day(local.date())} à {french.hour(local)}"


def at_username(name: str) -> str:
    """A username as the bot shows it: « `@name` », in a code span where nothing fires."""
    return f"`@{defuse(name.lstrip('@'), limit=USERNAME_LIMIT, form=Form.CODE)}`"


def already_pending(invitation: Invitation, channel: str) -> str:
    return (
        f"Votre demande pour rejoindre {channel} est en attente depuis le {when(invitation.created_at)}. "
        "Les référentes vont la traiter ; inutile d'en refaire une."
    )


def buttons(invitation: Invitation) -> tuple[Button, ...]:
    return (
        Button("Accepter", ACCEPT, invitation.id, ButtonStyle.PRIMARY),
        Button("Refuser", DECLINE, invitation.id, ButtonStyle.DANGER),
    )


def notice_text(
    invitation: Invitation, profile: User | None, channel: str, *, short: bool = False
) -> str:
    who = at_username(invitation.requester_username)
    if profile is not None and profile.full_name.strip():
        who = f"**{inline(profile.full_name, limit=NAME_LIMIT)}** ({who})"
    if profile is not None and profile.position.strip():
        who += f", {inline(profile.position, limit=POSITION_LIMIT)}"
    lines = [] if short else [f"#### 📬 Demande d'accès à ~{channel}"]
    lines.append(f"{who} demande à rejoindre ~{channel} — le {when(invitation.created_at)}.")
    if invitation.message:
        lines.append(defuse(invitation.message, limit=MESSAGE_LIMIT))
    else:
        lines.append("_(pas de message)_")
    return "\n".join(lines)


def outcome(invitation: Invitation) -> str:
    moment = when(invitation.decided_at) if invitation.decided_at else ""
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
