"""The process's own HTTP: the server it listens on (slash command, buttons, /healthz, the
club's calendar) and the client that fetches the club's ICS feed.

A client that sends its request slowly is dropped: its headers must all have come within
`HEADERS_TIMEOUT` of the connection (aiohttp's keep-alive timer, which also closes idle
connections), its body within `BODY_TIMEOUT` of the headers. Without these, half-sent
requests stayed open for ever and a few hundred used up the process's file descriptors.
Exposed to the Internet, the listener belongs behind a reverse proxy all the same.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.club.service import ClubService
from bot.subscriptions.club_delivery import CALENDAR_PATH, ClubNotices

log = logging.getLogger(__name__)

ICS_PATH = "/club.ics"
# Seconds for a request's headers to arrive (from the connection, or from the previous
# response on a kept-alive one), and for its body after them. Mattermost sends a whole
# slash command at once and waits 30 s for the answer: these only drop the slow.
HEADERS_TIMEOUT = 15.0
BODY_TIMEOUT = 15.0
LINGERING_TIME = 1.0


def club_calendar(club: ClubService) -> web.RouteDef:
    """GET /club.ics: the club's dates as a calendar people subscribe to."""

    async def calendar(_request: web.Request) -> web.Response:
        body = await asyncio.to_thread(club.ics)
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Content-Disposition": 'inline; filename="club-intras.ics"'},
        )

    return web.get(ICS_PATH, calendar)


def subscription_calendar(notices: ClubNotices) -> web.RouteDef:
    """GET /abonnements/<token>/club-<occurrence>.ics: a subscriber's invitation to one club
    (linked from the DM they got), as it is now: the event, or its cancellation."""

    async def calendar(request: web.Request) -> web.Response:
        body = await asyncio.to_thread(
            notices.calendar_file, request.match_info["token"], request.match_info["name"]
        )
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="club-intras.ics"',
                "Cache-Control": "no-store",
            },
        )

    return web.get(CALENDAR_PATH + "/{token}/{name}", calendar)


def body_deadline(seconds: float) -> Middleware:
    """A middleware: the request's body is read within `seconds`, or 408 and the
    connection closed (aiohttp would wait for the rest of it for ever)."""

    @web.middleware
    async def read_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists and not request.content.is_eof():
            try:
                async with asyncio.timeout(seconds):
                    await request.read()  # kept: the handler's read() gets it at once
            except TimeoutError:
                log.warning("event=http_slow_body_dropped path=%s", request.path)
                raise web.HTTPRequestTimeout(headers={"Connection": "close"}) from None
        return await handler(request)

    return read_in_time


async def listen(
    app: web.Application,
    host: str,
    port: int,
    *,
    headers_timeout: float = HEADERS_TIMEOUT,
    body_timeout: float = BODY_TIMEOUT,
) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0: any free port); the runner and the port bound."""
    app.middlewares.append(body_deadline(body_timeout))
    # aiohttp arms its keep-alive timer when a connection opens and closes the connection
    # if no whole request has come when it fires: the headers' deadline (and the idle one).
    # Once answered, what is left of an unread body (a 408, a 413) is read and thrown away
    # for a moment at most, not aiohttp's 10 s: a slow body keeps nothing open for long.
    runner = web.AppRunner(
        app,
        access_log=None,
        shutdown_timeout=3.0,
        keepalive_timeout=headers_timeout,
        lingering_time=min(LINGERING_TIME, body_timeout),
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    log.info("event=http_listening host=%s port=%s", host, bound)
    return runner, bound


async def fetch_url(url: str) -> bytes:
    async with httpx.AsyncClient(timeout=20, follow_redirects=True) as client:
        response = await client.get(url)
        response.raise_for_status()
        return response.content
