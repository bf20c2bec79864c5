"""Serve the /intra endpoint alone (`bot`) or a bare aiohttp handler (`bare`), for benchmarks/mattermost_roundtrip.py (slash_command.py runs the real `bot run`)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.adapters.mattermost.http import COMMAND_PATH, CommandEndpoint, build_app
from bot.answers.conversation import Conversation
from bot.content.loader import ContentSource
from bot.logs import configure_logging

TOKEN = "benchtoken0000000000000000"
FIXED = {"response_type": "ephemeral", "text": "ok"}


async def healthy() -> tuple[bool, dict[str, object]]:
    return True, {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["bot", "bare"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    configure_logging("INFO")
    logging.getLogger().handlers[0].stream = open("/dev/null", "w")  # noqa: SIM115
    if args.mode == "bot":
        app = build_app(CommandEndpoint(Conversation(ContentSource()), lambda: [TOKEN]), healthy)
    else:
        app = web.Application()

        async def bare(_request: web.Request) -> web.Response:
            return web.json_response(FIXED)

        app.router.add_post(COMMAND_PATH, bare)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
