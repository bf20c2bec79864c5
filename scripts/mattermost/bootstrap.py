#!/usr/bin/env python3
"""Idempotent bootstrap of the e2e Mattermost server (stdlib only).

Creates, or finds when they already exist: the system admin, the team
``betagouv``, the channels, the intra and referent users and the bot account
``intra-bot`` with an access token. Writes KEY=value lines to ``--env-file``.

Called by scripts/mattermost.sh after the server answers its ping.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "Admin-Passw0rd!"
USER_PASSWORD = "Passw0rd-intra-bot!"  # one password for every test user

TEAM_NAME = "betagouv"
TEAM_DISPLAY_NAME = "beta.gouv.fr"
PUBLIC_CHANNEL = ("domaine-intrapreneurs", "Domaine intrapreneurs", "O")
PRIVATE_CHANNEL = ("domaine-intras-prive", "Domaine intras (privé)", "P")

INTRA_USERS = ["alice.intra", "bruno.intra"]
REFERENT_USERS = ["marine.purson", "magali.marcel"]  # the referents of content/referents.yaml

BOT_USERNAME = "intra-bot"
BOT_DISPLAY_NAME = "Intra-bot"
BOT_DESCRIPTION = "Assistant de la communauté des intrapreneurs beta.gouv.fr (e2e)"


class ApiError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} -> HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


class Api:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: Any = None, *, ok_missing: bool = False) -> Any:
        """JSON request; returns the decoded body (or None on 404 when ok_missing)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/api/v4" + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("X-Requested-With", "XMLHttpRequest")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                self.last_headers = resp.headers
        except urllib.error.HTTPError as exc:
            text = exc.read().decode(errors="replace")
            if ok_missing and exc.code == 404:
                return None
            raise ApiError(method, path, exc.code, text) from None
        return json.loads(raw) if raw else None


def login(url: str, username: str, password: str) -> str | None:
    api = Api(url)
    try:
        api.call("POST", "/users/login", {"login_id": username, "password": password})
    except ApiError as exc:
        if exc.status in (401, 404):
            return None
        raise
    return api.last_headers["Token"]


def ensure_admin(url: str) -> str:
    token = login(url, ADMIN_USERNAME, ADMIN_PASSWORD)
    if token:
        return token
    # Empty database: the first user created (no auth needed) becomes system admin.
    anon = Api(url)
    anon.call(
        "POST",
        "/users",
        {
            "username": ADMIN_USERNAME,
            "password": ADMIN_PASSWORD,
            "email": f"{ADMIN_USERNAME}@example.test",
            "first_name": "Admin",
            "last_name": "E2E",
        },
    )
    token = login(url, ADMIN_USERNAME, ADMIN_PASSWORD)
    if not token:
        raise SystemExit("bootstrap: created the admin user but cannot log in with it")
    me = Api(url, token).call("GET", "/users/me")
    if "system_admin" not in me.get("roles", ""):
        raise SystemExit(
            "bootstrap: user 'admin' is not system admin (the database was not empty?); "
            "run scripts/mattermost.sh reset"
        )
    return token


def ensure_user(api: Api, username: str, first: str, last: str) -> dict[str, Any]:
    user = api.call("GET", f"/users/username/{username}", ok_missing=True)
    if user is None:
        user = api.call(
            "POST",
            "/users",
            {
                "username": username,
                "password": USER_PASSWORD,
                "email": f"{username}@example.test",
                "first_name": first,
                "last_name": last,
            },
        )
    return user


def ensure_team(api: Api) -> dict[str, Any]:
    team = api.call("GET", f"/teams/name/{TEAM_NAME}", ok_missing=True)
    if team is None:
        team = api.call(
            "POST", "/teams", {"name": TEAM_NAME, "display_name": TEAM_DISPLAY_NAME, "type": "O"}
        )
    return team


def ensure_team_member(api: Api, team_id: str, user_id: str) -> None:
    member = api.call("GET", f"/teams/{team_id}/members/{user_id}", ok_missing=True)
    if member is None or member.get("delete_at", 0):
        api.call("POST", f"/teams/{team_id}/members", {"team_id": team_id, "user_id": user_id})


def ensure_channel(api: Api, team_id: str, name: str, display: str, ctype: str) -> dict[str, Any]:
    chan = api.call(
        "GET", f"/teams/{team_id}/channels/name/{name}?include_deleted=true", ok_missing=True
    )
    if chan is None:
        chan = api.call(
            "POST",
            "/channels",
            {"team_id": team_id, "name": name, "display_name": display, "type": ctype},
        )
    elif chan.get("delete_at", 0):
        chan = api.call("POST", f"/channels/{chan['id']}/restore")
    return chan


def ensure_channel_member(api: Api, channel_id: str, user_id: str) -> None:
    member = api.call("GET", f"/channels/{channel_id}/members/{user_id}", ok_missing=True)
    if member is None:
        api.call("POST", f"/channels/{channel_id}/members", {"user_id": user_id})


def ensure_bot(api: Api) -> dict[str, Any]:
    user = api.call("GET", f"/users/username/{BOT_USERNAME}", ok_missing=True)
    if user is None:
        bot = api.call(
            "POST",
            "/bots",
            {
                "username": BOT_USERNAME,
                "display_name": BOT_DISPLAY_NAME,
                "description": BOT_DESCRIPTION,
            },
        )
        user = api.call("GET", f"/users/{bot['user_id']}")
    elif not user.get("is_bot"):
        raise SystemExit(f"bootstrap: user {BOT_USERNAME} exists but is not a bot")
    else:
        bot = api.call("GET", f"/bots/{user['id']}?include_deleted=true")
        if bot.get("delete_at", 0):
            api.call("POST", f"/bots/{user['id']}/enable")
    return user


def ensure_bot_token(api: Api, url: str, bot_user_id: str, token_file: Path) -> str:
    if token_file.exists():
        token = token_file.read_text().strip()
        try:
            me = Api(url, token).call("GET", "/users/me")
            if me["id"] == bot_user_id:
                return token
        except ApiError:
            pass
    created = api.call(
        "POST", f"/users/{bot_user_id}/tokens", {"description": "intra-bot e2e tests"}
    )
    token = created["token"]
    token_file.write_text(token + "\n")
    os.chmod(token_file, 0o600)
    return token


def env_key(username: str) -> str:
    return username.upper().replace(".", "_").replace("-", "_")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--run-dir", required=True, type=Path)
    ap.add_argument("--env-file", required=True, type=Path)
    args = ap.parse_args()

    admin_token = ensure_admin(args.url)
    api = Api(args.url, admin_token)
    admin = api.call("GET", "/users/me")

    team = ensure_team(api)
    team_id = team["id"]
    ensure_team_member(api, team_id, admin["id"])
    pub = ensure_channel(api, team_id, *PUBLIC_CHANNEL)
    priv = ensure_channel(api, team_id, *PRIVATE_CHANNEL)

    users: dict[str, dict[str, Any]] = {}
    for username in INTRA_USERS + REFERENT_USERS:
        first, last = (part.capitalize() for part in username.split(".", 1))
        user = ensure_user(api, username, first, last)
        ensure_team_member(api, team_id, user["id"])
        users[username] = user
    for username in INTRA_USERS:
        ensure_channel_member(api, pub["id"], users[username]["id"])
        # A reused server starts from the documented state: intras ask to join the private
        # channel, so one left in it by an earlier session (an accepted request) is taken out.
        if api.call(
            "GET", f"/channels/{priv['id']}/members/{users[username]['id']}", ok_missing=True
        ):
            api.call("DELETE", f"/channels/{priv['id']}/members/{users[username]['id']}")

    bot = ensure_bot(api)
    ensure_team_member(api, team_id, bot["id"])
    ensure_channel_member(api, pub["id"], bot["id"])
    ensure_channel_member(api, priv["id"], bot["id"])
    api.call(
        "PUT",
        f"/channels/{priv['id']}/members/{bot['id']}/schemeRoles",
        {"scheme_admin": True, "scheme_user": True},
    )
    bot_token = ensure_bot_token(api, args.url, bot["id"], args.run_dir / "bot_token")

    lines = {
        "MM_URL": args.url,
        "MM_TEAM": TEAM_NAME,
        "MM_TEAM_ID": team_id,
        "MM_ADMIN_USERNAME": ADMIN_USERNAME,
        "MM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MM_ADMIN_USER_ID": admin["id"],
        "MM_ADMIN_TOKEN": admin_token,
        "MM_BOT_USERNAME": BOT_USERNAME,
        "MM_BOT_USER_ID": bot["id"],
        "MM_BOT_TOKEN": bot_token,
        "MM_PUBLIC_CHANNEL": PUBLIC_CHANNEL[0],
        "MM_PUBLIC_CHANNEL_ID": pub["id"],
        "MM_PRIVATE_CHANNEL": PRIVATE_CHANNEL[0],
        "MM_PRIVATE_CHANNEL_ID": priv["id"],
        "MM_USER_PASSWORD": USER_PASSWORD,
        "MM_INTRA_USERS": ",".join(INTRA_USERS),
        "MM_REFERENT_USERS": ",".join(REFERENT_USERS),
    }
    for username, user in users.items():
        lines[f"MM_USER_{env_key(username)}_ID"] = user["id"]
    pg_dsn = os.environ.get("INTRA_BOT_PG_TEST_DSN")
    if pg_dsn:
        lines["INTRA_BOT_TEST_PG_DSN"] = pg_dsn
    tmp = args.env_file.with_suffix(".tmp")
    tmp.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    os.chmod(tmp, 0o600)
    tmp.replace(args.env_file)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ApiError as exc:
        print(f"bootstrap: {exc}", file=sys.stderr)
        sys.exit(1)
    except urllib.error.URLError as exc:
        print(f"bootstrap: cannot reach Mattermost: {exc}", file=sys.stderr)
        sys.exit(1)
