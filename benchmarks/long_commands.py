"""Another user's `/intra club` while ten 60,000-character `/intra` commands are in flight.

    python benchmarks/long_commands.py [--rounds 15] [--source DIR]

Serves the bot's slash-command endpoint (the same `build_app` + `CommandEndpoint`, with
the club service registered as in production) in a subprocess, then alternates rounds:
`/intra club` alone, and `/intra club` sent right after ten long commands have been
written to their own connections (so they are queued or running when it arrives).
Prints the median, min and max latency of each kind. Target (issue 10): < 100 ms under
load. `--source` serves another checkout (for a before/after comparison).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "benchtoken0000000000000000"
LONG = 60_000
IN_FLIGHT = 10


def form(text: str, user: str) -> bytes:
    return urlencode(
        {
            "channel_id": "channelid00000000000000000",
            "command": "/intra",
            "team_id": "teamid00000000000000000000",
            "text": text,
            "token": TOKEN,
            "trigger_id": "x",
            "user_id": f"{user:0<26}"[:26],
            "user_name": user,
        }
    ).encode()


def long_texts() -> list[bytes]:
    """Half one huge word (worst for prefix matching), half a long sentence."""
    word = "budget" + "s" * (LONG - 6)
    sentence = ("comment devenir intrapreneur avec un budget " * (LONG // 44 + 1))[:LONG]
    return [form(word if n % 2 else sentence, f"flood{n}") for n in range(IN_FLIGHT)]


def request(port: int, body: bytes) -> bytes:
    head = (
        f"POST /mattermost/command HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def send(port: int, raw: bytes) -> Connection:
    """The request fully written (kept open: a dropped writer closes its socket)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    return reader, writer


async def status_of(connection: Connection) -> int:
    reader, writer = connection
    data = await reader.read()
    writer.close()
    return int(data.split(b" ", 2)[1]) if data else 0


async def timed_club(port: int) -> float:
    start = time.perf_counter()
    status = await status_of(await send(port, request(port, form("club", "other"))))
    elapsed = (time.perf_counter() - start) * 1000
    if status != 200:
        raise SystemExit(f"/intra club answered {status}")
    return elapsed


async def loaded_round(port: int, floods: list[bytes]) -> float:
    connections = [await send(port, request(port, body)) for body in floods]
    elapsed = await timed_club(port)
    statuses = await asyncio.gather(*(status_of(c) for c in connections))
    if set(statuses) != {200}:
        raise SystemExit(f"long commands answered {sorted(set(statuses))}")
    return elapsed


async def run(port: int, rounds: int) -> tuple[list[float], list[float]]:
    floods = long_texts()
    alone: list[float] = []
    loaded: list[float] = []
    await timed_club(port)  # warm-up: content and club dates computed once
    for _ in range(rounds):
        alone.append(await timed_club(port))
        loaded.append(await loaded_round(port, floods))
    return alone, loaded


def serve(port: int, source: Path) -> None:
    sys.path.insert(0, str(source))
    import logging

    from aiohttp import web

    from bot.adapters.mattermost.http import CommandEndpoint, build_app
    from bot.answers.conversation import Conversation
    from bot.club.service import ClubService
    from bot.content.loader import ContentSource

    logging.disable(logging.CRITICAL)
    content = ContentSource()
    conversation = Conversation(content)
    club = ClubService(content, None, owner="bench")
    conversation.register("club", club.reply)

    async def healthy() -> tuple[bool, dict[str, object]]:
        return True, {}

    app = build_app(CommandEndpoint(conversation, lambda: [TOKEN]), healthy)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"server on {port} did not start")


def summary(name: str, values: list[float]) -> str:
    return (
        f"{name:34} median {statistics.median(values):8.1f} ms"
        f"   min {min(values):8.1f}   max {max(values):8.1f}   (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.source.resolve())
        return
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--source", str(args.source)],
        env={**os.environ, "PYTHONPATH": str(args.source.resolve())},
    )
    try:
        wait_port(port, server)
        alone, loaded = asyncio.run(run(port, args.rounds))
    finally:
        server.terminate()
        server.wait()
    print(f"source: {args.source.resolve()}")
    print(summary("/intra club alone", alone))
    print(summary(f"/intra club, {IN_FLIGHT} x {LONG:,} chars in flight", loaded))
    verdict = "met" if statistics.median(loaded) < 100 else "NOT met"
    print(f"target < 100 ms under load: {verdict}")


if __name__ == "__main__":
    main()
