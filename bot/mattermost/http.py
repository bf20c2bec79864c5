"""HTTP routes that Mattermost calls: the slash command (and buttons, dialogs), plus /healthz.

Verification comes first and is separate: a request without a valid command token
gets a bare 401 and reaches nothing else.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from bot.chat import Message, User
from bot.conversation import Conversation
from bot.mattermost.render import command_response

log = logging.getLogger(__name__)

COMMAND_PATH = "/mattermost/command"
HEALTH_PATH = "/healthz"

HealthCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]


def token_is_valid(presented: str, accepted: Sequence[str]) -> bool:
    """Constant-time comparison against every accepted token (several during a rotation)."""
    presented_bytes = presented.encode()
    valid = False
    for token in accepted:
        # No early exit: the time taken does not say which token nearly matched.
        valid |= bool(token) and hmac.compare_digest(presented_bytes, token.encode())
    return valid


class CommandEndpoint:
    def __init__(self, conversation: Conversation, tokens: Callable[[], Sequence[str]]) -> None:
        self._conversation = conversation
        self._tokens = tokens

    async def handle(self, request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        header_token = header[len("Token ") :].strip() if header.startswith("Token ") else ""
        if header_token and not token_is_valid(header_token, self._tokens()):
            return _unauthorized()
        try:
            form = await request.post()
        except Exception:  # any undecodable body: the client's fault, never a 500
            return _unauthorized() if not header_token else _bad_request("unreadable form body")
        form_token = form.get("token")
        if not header_token and not (
            isinstance(form_token, str) and token_is_valid(form_token, self._tokens())
        ):
            return _unauthorized()
        fields = {key: form.get(key) for key in ("user_id", "channel_id", "text", "user_name")}
        if not all(isinstance(fields[key], str) for key in ("user_id", "channel_id")):
            return _bad_request("user_id and channel_id are required")
        text = fields["text"] if isinstance(fields["text"], str) else ""
        message = Message(
            text=text,
            user=User(id=str(fields["user_id"]), username=str(fields["user_name"] or "")),
            channel_id=str(fields["channel_id"]),
            thread_id=str(form.get("root_id") or ""),
            extra={"trigger_id": str(form.get("trigger_id") or "")},
        )
        reply = await self._conversation.respond(message)
        log.info(
            "event=slash_command user_id=%s command=%r", message.user.id, text.split(" ", 1)[0][:30]
        )
        return web.json_response(command_response(reply))


def _unauthorized() -> web.Response:
    return web.Response(status=401, text="unauthorized")


def _bad_request(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


def build_app(
    command: CommandEndpoint,
    health: HealthCheck,
    extra_routes: Sequence[web.RouteDef] = (),
) -> web.Application:
    app = web.Application(client_max_size=256 * 1024)

    async def healthz(_request: web.Request) -> web.Response:
        ready, detail = await health()
        return web.json_response(detail, status=200 if ready else 503)

    app.router.add_post(COMMAND_PATH, command.handle)
    app.router.add_get(HEALTH_PATH, healthz)
    app.router.add_routes(list(extra_routes))
    return app
