"""The process's own HTTP: the server it listens on (slash command, buttons, /healthz, the
club's calendar) and the client that fetches the club's ICS feed."""

from __future__ import annotations

import asyncio
import logging

import httpx
from aiohttp import web

from bot.club.service import ClubService

log = logging.getLogger(__name__)

ICS_PATH = "/club.ics"


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


async def listen(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0: any free port); the runner and the port bound."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=3.0)
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
