"""Button clicks and dialog submissions from Mattermost.

Mattermost signs neither. The button context carries an HMAC of (action, value) made
with our secret, and the dialog state one of the request id; anything that does not
verify is refused before any other work. The clicker's identity is set by the server.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot.adapters.mattermost.api import MattermostApi, MattermostApiError, MattermostUnavailable
from bot.adapters.mattermost.callbacks import (
    action_call,
    dialog_submission,
    read_object,
    submitted_text,
)
from bot.adapters.mattermost.signing import sign, verify
from bot.chat import User
from bot.invitations.service import InvitationService
from bot.invitations.texts import ACCEPT, DECLINE, at_username

log = logging.getLogger(__name__)

ACTION_PATH = "/mattermost/action"
DIALOG_PATH = "/mattermost/dialog"
REASON_FIELD = "reason"


class InvitationActions:
    def __init__(
        self, service: InvitationService, api: MattermostApi, secret: bytes, dialog_url: str
    ) -> None:
        self._service = service
        self._api = api
        self._secret = secret
        self._dialog_url = dialog_url

    def routes(self) -> list[web.RouteDef]:
        return [web.post(ACTION_PATH, self.on_action), web.post(DIALOG_PATH, self.on_dialog)]

    async def on_action(self, request: web.Request) -> web.Response:
        body = await read_object(request)
        call = action_call(body) if body is not None else None
        if call is None:
            return _bad_request()
        action, value = call.action, call.value
        if not verify(self._secret, call.sig, action, value):
            log.warning("event=forged_action_refused remote=%s", request.remote)
            return web.json_response({"error": "bad signature"}, status=403)
        user = await self._user(call.user_id)
        if user is None:
            return web.json_response(
                {"ephemeral_text": "Je n'ai pas pu vous identifier, réessayez."}
            )
        if action == ACCEPT:
            decision = await self._service.decide(value, ACCEPT, user)
            return web.json_response({"ephemeral_text": decision.reply.text})
        if action == DECLINE:
            return web.json_response(await self._open_decline_dialog(value, user, call.trigger_id))
        return web.json_response({"ephemeral_text": "Action inconnue."})

    async def _open_decline_dialog(
        self, invitation_id: str, user: User, trigger_id: str
    ) -> dict[str, Any]:
        if not self._service.is_referent(user):
            return {
                "ephemeral_text": "Seules les référentes des intras peuvent traiter les demandes d'accès."
            }
        invitation = await asyncio.to_thread(self._service.records.get, invitation_id)
        if invitation is None or not invitation.open:
            who = invitation.decided_by if invitation else "quelqu'un"
            return {"ephemeral_text": f"Cette demande a déjà été traitée par @{who}."}
        dialog = {
            "callback_id": "decline",
            "title": "Refuser la demande",
            "introduction_text": f"Refuser la demande de {at_username(invitation.requester_username)} ? "
            "La personne sera prévenue, avec votre mot s'il y en a un.",
            "submit_label": "Refuser",
            "notify_on_cancel": False,
            "state": f"{invitation_id}:{sign(self._secret, 'dialog', invitation_id)}",
            "elements": [
                {
                    "display_name": "Un mot pour la personne (facultatif)",
                    "name": REASON_FIELD,
                    "type": "textarea",
                    "optional": True,
                    "max_length": 500,
                    "placeholder": "Par exemple : ce canal est réservé aux intras en poste.",
                }
            ],
        }
        try:
            await self._api.open_dialog(trigger_id, self._dialog_url, dialog)
        except (MattermostApiError, MattermostUnavailable) as error:
            log.error("event=dialog_open_failed id=%s error=%r", invitation_id, str(error))
            return {
                "ephemeral_text": "Je n'ai pas pu ouvrir la fenêtre de refus ; réessayez, ou tapez `/intra demandes`."
            }
        return {}

    async def on_dialog(self, request: web.Request) -> web.Response:
        body = await read_object(request)
        submitted = dialog_submission(body) if body is not None else None
        if submitted is None:
            return _bad_request()
        invitation_id, _, signature = submitted.state.partition(":")
        if not verify(self._secret, signature, "dialog", invitation_id):
            log.warning("event=forged_dialog_refused remote=%s", request.remote)
            return web.json_response({"error": "bad signature"}, status=403)
        if submitted.cancelled:
            return web.json_response({})
        reason = submitted_text(submitted.submission, REASON_FIELD)
        if reason is None:
            return _bad_request()
        user = await self._user(submitted.user_id)
        if user is None:
            return web.json_response({"error": "Je n'ai pas pu vous identifier, réessayez."})
        decision = await self._service.decide(invitation_id, DECLINE, user, reason)
        return web.json_response({} if decision.applied else {"error": decision.reply.text})

    async def _user(self, user_id: str) -> User | None:
        if not user_id:
            return None
        try:
            info = await self._api.user(user_id)
        except (MattermostApiError, MattermostUnavailable):
            return None
        return User(id=info.id, username=info.username)


def _bad_request() -> web.Response:
    return web.json_response({"error": "invalid JSON body"}, status=400)
