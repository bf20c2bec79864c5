"""The runtime image's checks, run by scripts/docker-smoke.sh (standard library only).

    smoke_checks.py --docker D --image I standalone
    smoke_checks.py --docker D --image I mattermost --env-file FILE

Each check prints one line; the first failure stops with exit 1 and says what was seen.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LABEL = "intra-bot-smoke"
UID = "10001"


class CheckFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"[docker-smoke] ok: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, condition: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.2)
    raise CheckFailed(f"{what}: not within {timeout:.0f} s (last: {last!r})")


class Docker:
    def __init__(self, binary: str, image: str) -> None:
        self.binary = binary
        self.image = image

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def must(self, *args: str, timeout: float = 120) -> str:
        result = self(*args, timeout=timeout)
        if result.returncode != 0:
            raise CheckFailed(
                f"docker {' '.join(args[:2])}…: exit {result.returncode}: {result.stderr.strip()}"
            )
        return result.stdout

    def start(self, name: str, env: dict[str, str], *extra: str) -> str:
        self("rm", "-f", name)
        flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self.must(
            "run",
            "-d",
            "--name",
            name,
            "--label",
            LABEL,
            "--network",
            "host",
            *flags,
            *extra,
            self.image,
        )
        return name

    def logs(self, name: str) -> str:
        result = self("logs", "--tail", "40", name)
        return result.stdout + result.stderr


def health(port: int) -> tuple[int, dict[str, Any]] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except (OSError, ValueError):
        return None


def standalone(docker: Docker) -> None:
    port, dead_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        content = Path(tmp) / "content"
        shutil.copytree(REPO / "content", content)
        for path in [content, *content.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        name = docker.start(
            "intra-bot-smoke-standalone",
            {
                "INTRA_BOT_HTTP__HOST": "127.0.0.1",
                "INTRA_BOT_HTTP__PORT": str(port),
                "INTRA_BOT_MATTERMOST__URL": f"http://127.0.0.1:{dead_port}",
                "INTRA_BOT_MATTERMOST__TOKEN": "smoketestnotarealtoken0000",
            },
            "-v",
            f"{content}:/srv/intra-bot/content:ro",
        )
        try:
            _standalone_checks(docker, name, port, content)
        except CheckFailed:
            print(docker.logs(name), file=sys.stderr)
            raise
        finally:
            docker("rm", "-f", name)


def _standalone_checks(docker: Docker, name: str, port: int, content: Path) -> None:
    started = time.monotonic()
    status, body = wait_for("/healthz answers", lambda: health(port), 30)
    parts = body.get("parts", {})
    if (
        status != 503
        or not parts.get("store", {}).get("ok")
        or not parts.get("content", {}).get("ok")
    ):
        raise CheckFailed(
            f"/healthz without Mattermost: want 503 with store and content ok, got {status} {body}"
        )
    say(
        f"/healthz 503 with store and content ok, Mattermost unreachable ({time.monotonic() - started:.1f} s after start)"
    )

    proc_status = docker.must("exec", name, "cat", "/proc/1/status")
    ids = {
        line.split(":")[0]: line.split()[1:]
        for line in proc_status.splitlines()
        if line.startswith(("Uid:", "Gid:"))
    }
    if set(ids.get("Uid", [])) != {UID} or set(ids.get("Gid", [])) != {UID}:
        raise CheckFailed(f"the bot's process should run as {UID}:{UID}, not {ids}")
    say(f"the process runs as uid {UID}, gid {UID} (not root)")

    answer = docker.must("exec", name, "intra-bot", "ask", "referents")
    if "Les référents" not in answer:
        raise CheckFailed(f"intra-bot ask referents inside the image printed: {answer[:300]!r}")
    say("intra-bot ask referents works inside")

    docker.must("exec", name, "python", "-c", "import psycopg; psycopg.pq.version()")
    say("the PostgreSQL driver (psycopg) imports, with its libpq")

    _matrix_checks(docker, name)

    _sighup_reloads(docker, name, port, content)

    started = time.monotonic()
    docker.must("stop", "-t", "10", name, timeout=30)
    elapsed = time.monotonic() - started
    exit_code = docker.must("inspect", "-f", "{{.State.ExitCode}}", name).strip()
    if exit_code != "0" or elapsed >= 10:
        raise CheckFailed(
            f"docker stop: exit code {exit_code} after {elapsed:.1f} s (want 0 within 10 s)"
        )
    say(f"docker stop: exit 0 in {elapsed:.1f} s")


# The adapter, its stores' drivers, and libolm (bundled in python-olm's wheel) really working.
MATRIX_IMPORTS = (
    "import asyncpg, aiosqlite, olm, bot.adapters.matrix.adapter, bot.adapters.matrix.setup; "
    "olm.Account()"
)


def _matrix_checks(docker: Docker, name: str) -> None:
    docker.must("exec", name, "python", "-c", MATRIX_IMPORTS)
    say("the Matrix adapter imports, with E2EE (an Olm account made by the bundled libolm)")
    dead = free_port()
    result = docker(
        "exec",
        "-e",
        f"INTRA_BOT_MATRIX__HOMESERVER=http://127.0.0.1:{dead}",
        "-e",
        "INTRA_BOT_MATRIX__USER_ID=@intra-bot:example.org",
        "-e",
        "INTRA_BOT_MATRIX__PASSWORD=smoke",
        "-e",
        f"INTRA_BOT_MATRIX__PICKLE_KEY={'smoke-pickle-key-' * 2}",  # required with a homeserver
        "-e",
        "INTRA_BOT_STORE__URL=sqlite:////tmp/setup-smoke.sqlite3",
        name,
        "intra-bot",
        "setup",
        "--platform",
        "matrix",
    )
    if result.returncode != 1 or "FAIL  the homeserver answers" not in result.stdout:
        raise CheckFailed(
            "intra-bot setup --platform matrix, homeserver down: want exit 1 and the fix, got "
            f"{result.returncode}: {result.stdout[-300:]!r} {result.stderr[-300:]!r}"
        )
    say("intra-bot setup --platform matrix runs inside (homeserver down: exit 1 and the fix)")


def _sighup_reloads(docker: Docker, name: str, port: int, content: Path) -> None:
    """A broken file and HUP: the reload is refused (and shown); fixed and HUP: ok again."""
    referents = content / "referents.yaml"
    good = referents.read_text(encoding="utf-8")
    referents.write_text(good + "\n  - : [unclosed\n", encoding="utf-8")
    docker.must("kill", "-s", "HUP", name)

    def reload_error() -> str | None:
        seen = health(port)
        content_part = seen[1].get("parts", {}).get("content", {}) if seen else {}
        return content_part.get("last_reload_error") if content_part.get("ok") is False else None

    wait_for("SIGHUP with a broken file: /healthz shows the refused reload", reload_error, 20)
    referents.write_text(good, encoding="utf-8")
    docker.must("kill", "-s", "HUP", name)

    def reloaded() -> bool:
        seen = health(port)
        return bool(seen and seen[1].get("parts", {}).get("content", {}).get("ok"))

    wait_for("SIGHUP with the file fixed: content ok again", reloaded, 20)
    say("SIGHUP reloads the content (a broken file refused, the fixed one taken)")


def mattermost(docker: Docker, env_file: Path) -> None:
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    bot_env = {
        "INTRA_BOT_MATTERMOST__URL": env["MM_URL"],
        "INTRA_BOT_MATTERMOST__TOKEN": env["MM_BOT_TOKEN"],
        "INTRA_BOT_HTTP__HOST": "127.0.0.1",
        "INTRA_BOT_HTTP__PORT": str(port),
        "INTRA_BOT_HTTP__PUBLIC_URL": public_url,
    }
    flags = [
        arg
        for key, value in {**bot_env, "INTRA_BOT_SETUP_ADMIN_TOKEN": env["MM_ADMIN_TOKEN"]}.items()
        for arg in ("-e", f"{key}={value}")
    ]
    setup = docker(
        "run",
        "--rm",
        "--label",
        LABEL,
        "--network",
        "host",
        *flags,
        docker.image,
        "intra-bot",
        "setup",
    )
    match = re.search(r'command_tokens = \["([^"]+)"\]', setup.stdout)
    if setup.returncode != 0 or not match:
        raise CheckFailed(
            f"intra-bot setup in the image: exit {setup.returncode}\n{setup.stdout}{setup.stderr}"
        )
    say("intra-bot setup in the image registered /intra against the real server")

    name = docker.start(
        "intra-bot-smoke-mattermost", {**bot_env, "INTRA_BOT_HTTP__COMMAND_TOKENS": match.group(1)}
    )
    try:
        started = time.monotonic()
        wait_for(
            "/healthz 200 against the real Mattermost",
            lambda: (health(port) or (0, {}))[0] == 200,
            60,
        )
        say(
            f"/healthz 200 against the real Mattermost ({time.monotonic() - started:.1f} s after start)"
        )
        text = _execute(env, "/intra referents")
        if "Les référents" not in text:
            raise CheckFailed(f"/intra referents through commands/execute answered: {text[:300]!r}")
        say("/intra referents through commands/execute is answered by the container")
    except CheckFailed:
        print(docker.logs(name), file=sys.stderr)
        raise
    finally:
        docker("rm", "-f", name)


def _execute(env: dict[str, str], command: str) -> str:
    user = env["MM_INTRA_USERS"].split(",")[0]
    login = _api(
        env, "POST", "/users/login", {"login_id": user, "password": env["MM_USER_PASSWORD"]}
    )
    body = {
        "channel_id": env["MM_PUBLIC_CHANNEL_ID"],
        "command": command,
        "team_id": env["MM_TEAM_ID"],
    }
    return str(_api(env, "POST", "/commands/execute", body, token=login["token"]).get("text", ""))


def _api(
    env: dict[str, str], method: str, path: str, body: dict[str, str], token: str = ""
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "X-Requested-With": "XMLHttpRequest"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        env["MM_URL"] + "/api/v4" + path,
        data=json.dumps(body).encode(),
        headers=headers,
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            data = json.loads(response.read() or b"{}")
            if "Token" in response.headers:
                data["token"] = response.headers["Token"]
            return dict(data)
    except urllib.error.HTTPError as error:
        raise CheckFailed(f"{method} {path}: {error.code} {error.read()[:300]!r}") from None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docker", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("part", choices=["standalone", "mattermost"])
    parser.add_argument("--env-file", type=Path)
    args = parser.parse_args()
    docker = Docker(args.docker, args.image)
    try:
        if args.part == "standalone":
            standalone(docker)
        else:
            mattermost(docker, args.env_file)
    except (CheckFailed, subprocess.TimeoutExpired) as error:
        print(f"[docker-smoke] FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
