"""Button clicks and dialog submissions from Mattermost.

Mattermost signs neither. The button context carries an HMAC of (action, value, expiry)
made with our secret, and the dialog state one of the request id; anything that does not
verify is refused before any other work, and a button past its expiry is answered that it
expired. The clicker's identity is set by the server.

Buttons posted before expiry existed carry an HMAC of (action, value) only. They are
still taken (logged): they only ever decide a request that is still open (`decide` and
`decline_dialog` answer the others that they were handled), which is what the person
clicking expects; refusing them would strand the open requests' notices already posted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.adapters.mattermost.api import MattermostApi, MattermostApiError, MattermostUnavailable
from bot.adapters.mattermost.callbacks import (
    action_call,
    dialog_submission,
    read_object,
    submitted_text,
)
from bot.adapters.mattermost.signing import expired, sign, verify, verify_button
from bot.chat import Dialog, Reply, User
from bot.clock import utc_now
from bot.invitations.service import InvitationService
from bot.invitations.texts import (
    ACCEPT,
    BUTTON_EXPIRED,
    DECLINE,
    DIALOG_FAILED,
    NOT_IDENTIFIED,
    UNKNOWN_ACTION,
)

log = logging.getLogger(__name__)

ACTION_PATH = "/mattermost/action"
DIALOG_PATH = "/mattermost/dialog"
REASON_FIELD = "reason"


class InvitationActions:
    def __init__(
        self,
        service: InvitationService,
        api: MattermostApi,
        secret: bytes,
        dialog_url: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._clock = clock
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
        if call.expires:
            genuine = verify_button(self._secret, call.sig, action, value, call.expires)
        else:  # posted before buttons expired
            genuine = verify(self._secret, call.sig, action, value)
        if not genuine:
            log.warning("event=forged_action_refused remote=%s", request.remote)
            return web.json_response({"error": "bad signature"}, status=403)
        if not call.expires:
            log.info("event=unexpiring_button_taken action=%s id=%s", action, value)
        elif expired(call.expires, self._clock()):
            log.warning(
                "event=expired_action_refused action=%s id=%s expired_at=%s user_id=%s",
                action,
                value,
                call.expires,
                call.user_id,
            )
            return web.json_response({"ephemeral_text": BUTTON_EXPIRED})
        user = await self._user(call.user_id)
        if user is None:
            return web.json_response({"ephemeral_text": NOT_IDENTIFIED})
        if action == ACCEPT:
            decision = await self._service.decide(value, ACCEPT, user)
            return web.json_response({"ephemeral_text": decision.reply.text})
        if action == DECLINE:
            return web.json_response(await self._open_decline_dialog(value, user, call.trigger_id))
        return web.json_response({"ephemeral_text": UNKNOWN_ACTION})

    async def _open_decline_dialog(
        self, invitation_id: str, user: User, trigger_id: str
    ) -> dict[str, Any]:
        opened = await self._service.decline_dialog(invitation_id, user)
        if isinstance(opened, Reply):
            return {"ephemeral_text": opened.text}
        state = f"{invitation_id}:{sign(self._secret, 'dialog', invitation_id)}"
        try:
            await self._api.open_dialog(trigger_id, self._dialog_url, _dialog_json(opened, state))
        except (MattermostApiError, MattermostUnavailable) as error:
            log.error("event=dialog_open_failed id=%s error=%r", invitation_id, str(error))
            return {"ephemeral_text": DIALOG_FAILED}
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
            return web.json_response({"error": NOT_IDENTIFIED})
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


def _dialog_json(dialog: Dialog, state: str) -> dict[str, Any]:
    """The core's `Dialog` as Mattermost's interactive dialog, its one field named REASON_FIELD."""
    return {
        "callback_id": "decline",
        "title": dialog.title,
        "introduction_text": dialog.introduction,
        "submit_label": dialog.submit_label,
        "notify_on_cancel": False,
        "state": state,
        "elements": [
            {
                "display_name": dialog.field_label,
                "name": REASON_FIELD,
                "type": "textarea",
                "optional": True,
                "max_length": dialog.max_length,
                "placeholder": dialog.placeholder,
            }
        ],
    }


def _bad_request() -> web.Response:
    return web.json_response({"error": "invalid JSON body"}, status=400)
