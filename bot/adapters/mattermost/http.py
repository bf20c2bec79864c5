"""HTTP routes that Mattermost calls: the slash command (and buttons, dialogs), plus /healthz.

Verification comes first and is separate: a request without a valid command token
gets a bare 401 and reaches nothing else.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import hdrs, web

from bot.adapters.mattermost.render import SignedButtons, command_response
from bot.answers.conversation import Conversation
from bot.chat import Message, Reply, User

log = logging.getLogger(__name__)

COMMAND_PATH = "/mattermost/command"
FORM_TYPE = "application/x-www-form-urlencoded"
HEALTH_PATH = "/healthz"
# The longest text a Mattermost user can type is one post (MaxPostSize, 16,383
# characters); url-encoded, a character takes at most 12 bytes (%F0%9F%98%80), and the
# other fields a few kilobytes (one more per @mention in the text). Such a text gets
# the polite « je n'en ai lu que… » answer, since the core reads only its first
# `answers.MAX_TEXT_CHARS` characters; anything larger is refused (413) unread.
MAX_POST_CHARS = 16_383
MAX_BODY = MAX_POST_CHARS * 12 + 32 * 1024

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
    def __init__(
        self,
        conversation: Conversation,
        tokens: Callable[[], Sequence[str]],
        signer: SignedButtons | None = None,
    ) -> None:
        self._conversation = conversation
        self._tokens = tokens
        self._signer = signer

    async def handle(self, request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        header_token = header[len("Token ") :].strip() if header.startswith("Token ") else ""
        if header_token and not token_is_valid(header_token, self._tokens()):
            return _unauthorized()
        form = await _read_form(request)
        if form is None:
            return _unauthorized() if not header_token else _bad_request("unreadable form body")
        if not header_token and not token_is_valid(form.get("token", ""), self._tokens()):
            return _unauthorized()
        if not form.get("user_id") or not form.get("channel_id"):
            return _bad_request("user_id and channel_id are required")
        message = Message(
            text=form.get("text", ""),
            user=User(id=form["user_id"], username=form.get("user_name", "")),
            channel_id=form["channel_id"],
            thread_id=str(form.get("root_id") or ""),
            extra={"trigger_id": str(form.get("trigger_id") or "")},
            platform="mattermost",
        )
        reply = await self._conversation.answer_command(message)
        log.debug("event=slash_command user_id=%s", message.user.id)
        return web.Response(body=_encoded(reply, self._signer), content_type="application/json")


async def _read_form(request: web.Request) -> dict[str, str] | None:
    """The url-encoded form Mattermost sends, or None for anything else."""
    # The raw header, not `request.content_type`, which parses it again for each request.
    media_type = request.headers.get(hdrs.CONTENT_TYPE, "").partition(";")[0]
    if media_type.strip().lower() != FORM_TYPE:
        return None
    stream = request.content
    # A slash-command body is small and has usually fully arrived with the headers:
    # take it without a round through the event loop.
    small = (request.content_length or MAX_BODY + 1) <= MAX_BODY
    raw = stream.read_nowait() if small and stream.is_eof() else b""
    # Empty when the listener already read it (a body that came slowly, bot/web.py).
    raw = raw or await request.read()
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return parse_form(body)


FORM_FIELDS = frozenset(
    {"token", "user_id", "user_name", "channel_id", "text", "root_id", "trigger_id", "team_id"}
)


def parse_form(body: str) -> dict[str, str]:
    """The fields we use from an url-encoded body.

    `urllib.parse.parse_qsl` decodes every field, response_url and mentions included,
    and was half the cost of a request; this decodes only what the bot reads.
    """
    form: dict[str, str] = {}
    for pair in body.split("&"):
        key, _, value = pair.partition("=")
        if key in FORM_FIELDS and key not in form:
            form[key] = unquote_plus(value) if "%" in value or "+" in value else value
    return form


@lru_cache(maxsize=512)
def _encoded(reply: Reply, signer: SignedButtons | None) -> bytes:
    # Topic replies are cached objects: encoding each once saves most of the JSON cost.
    return json.dumps(command_response(reply, signer), ensure_ascii=False).encode()


def _unauthorized() -> web.Response:
    return web.Response(status=401, text="unauthorized")


def _bad_request(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


def build_app(
    command: CommandEndpoint | None,
    health: HealthCheck,
    extra_routes: Sequence[web.RouteDef] = (),
) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)

    async def healthz(_request: web.Request) -> web.Response:
        ready, detail = await health()
        return web.json_response(detail, status=200 if ready else 503)

    if command is not None:  # Mattermost is configured
        app.router.add_post(COMMAND_PATH, command.handle)
    app.router.add_get(HEALTH_PATH, healthz)
    app.router.add_routes(list(extra_routes))
    return app
