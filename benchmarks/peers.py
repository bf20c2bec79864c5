"""The servers that benchmarks/slash_command.py measures, one process each, and its peers.

    python benchmarks/peers.py bare --port P --reply FILE   # FILE's bytes as they are: plain aiohttp
    python benchmarks/peers.py bolt --port P --reply FILE   # Slack Bolt's AsyncApp, FILE's "text"

`start` and `stop` run any of them (the bot too) pinned to CPU 0. `bare` needs only aiohttp
(the bot's venv); `bolt` runs in the venv that `peer_python` makes once from
benchmarks/requirements-peers.txt, outside the repository. Neither peer imports the bot,
and neither logs a request.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

PATH = "/mattermost/command"  # the bot's COMMAND_PATH
HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-peers.txt"
Probe = Callable[[int], tuple[int, bytes]]  # port -> status and body of one request


class Unavailable(Exception):
    """A server that cannot run here; the message says why."""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    reply: bytes = b""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    name: str, argv: list[str], log: Path, port: int, probe: Probe, **popen: object
) -> Server:
    """Start a server on CPU 0; wait until `probe` (a request) gets a 200, 30 s at most."""
    with log.open("ab") as out:
        process = subprocess.Popen(  # type: ignore[call-overload]
            ["taskset", "-c", "0", *argv], stdout=out, stderr=subprocess.STDOUT, **popen
        )
    server = Server(name, process, port)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, server.reply = probe(port)
                if status == 200:
                    return server
            except OSError:
                time.sleep(0.1)
        tail = log.read_text(errors="replace")[-1500:]
        raise Unavailable(f"{name} did not answer 200 within 30 s; its output ends with:\n{tail}")
    except BaseException:  # Ctrl-C included: no server left behind
        stop(server)
        raise


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def peer_python() -> Path:
    """The Python of the peers' venv, made once per requirements-peers.txt (hash-checked)."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("INTRA_BOT_CACHE") or Path.home() / ".cache" / "intra-bot")
    venv = cache / f"bench-peers-{digest}"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    print(f"making the peers' venv {venv} (once)", flush=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--require-hashes", "-r"]
    for step in (
        [sys.executable, "-m", "venv", str(venv)],
        [*pip, str(HERE.parent / "requirements" / "pip.txt")],  # a pip that takes the hashes
        [*pip, str(REQUIREMENTS)],
    ):
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode:
            shutil.rmtree(venv, ignore_errors=True)
            said = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
            raise Unavailable(f"`{' '.join(step[-3:])}` failed: {' '.join(said)}")
    (venv / ".complete").touch()
    return python


def bare(reply: bytes) -> web.Application:
    """One POST route returning fixed bytes: the limit of this stack (aiohttp, one core)."""

    async def handle(_request: web.Request) -> web.Response:
        return web.Response(body=reply, content_type="application/json")

    app = web.Application()
    app.router.add_post(PATH, handle)
    return app


def bolt(reply: bytes) -> web.Application:
    """Bolt's own aiohttp server, its defaults kept, with no call to Slack.

    `request_verification_enabled=False`: the POST carries no Slack signature. The async
    app has no `token_verification_enabled` (only the sync App does): with a `token`, its
    authorization middleware would call auth.test on Slack once, so a fixed `authorize`
    returning a dummy bot token stands in for it, which is what the sync flag amounts to."""
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.authorization import AuthorizeResult

    text = json.loads(reply)["text"]
    dummy = AuthorizeResult(
        enterprise_id=None,
        team_id="teamid00000000000000000000",
        bot_token="xoxb-dummy",
        bot_id="B0000000000",
        bot_user_id="U0000000000",
    )

    async def authorize(**_kwargs: Any) -> AuthorizeResult:
        return dummy

    app = AsyncApp(
        signing_secret="unused",
        authorize=authorize,
        request_verification_enabled=False,
    )

    @app.command("/intra")
    async def intra(ack: Any) -> None:
        await ack(response_type="ephemeral", text=text)

    return app.web_app(path=PATH)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("peer", choices=["bare", "bolt"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--reply", type=Path, required=True, help="the bot's reply, as served")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    reply = args.reply.read_bytes()
    app = bare(reply) if args.peer == "bare" else bolt(reply)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
