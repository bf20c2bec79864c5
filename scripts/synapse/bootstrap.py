#!/usr/bin/env python3
"""Idempotent bootstrap of the e2e Synapse homeserver (stdlib only).

Registers, or finds when they already exist, the admin, the bot, two intras and
the content's two referents (shared-secret admin API); creates, or finds by alias, the public
room « Domaine-intras » (everyone in it) and the encrypted private intras room
(referents and the bot in it, the bot a moderator able to invite, the intras out
of it, as the Mattermost bootstrap leaves them). Writes KEY=value lines to
``--env-file``.

Called by scripts/synapse.sh once Synapse answers /health. The shared secret
comes in INTRA_BOT_SYNAPSE_SHARED_SECRET, never on the command line.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ADMIN = "admin"
ADMIN_PASSWORD = "Admin-Passw0rd!"
BOT = "intra-bot"
BOT_PASSWORD = "Bot-Passw0rd-intra!"
USER_PASSWORD = "Passw0rd-intra-bot!"  # one password for every test user
INTRA_USERS = ["alice.intra", "bruno.intra"]
# The referents of content/referents.yaml, named as Tchap names people (from their e-mail:
# prenom.nom@beta.gouv.fr -> @prenom.nom-beta.gouv.fr:server); the e2e settings give them
# these ids as their Tchap accounts (tests/e2e_matrix/test_synapse_referents.py checks it).
REFERENT_USERS = ["marine.purson-beta.gouv.fr", "magali.marcel-beta.gouv.fr"]

PUBLIC_ROOM = ("domaine-intras", "Domaine-intras")
PRIVATE_ROOM = ("domaine-intras-prive", "Domaine intras (privé)")
# Moderator with invite at 50: the bot can invite without an unremovable 100.
BOT_POWER = 50
INVITE_LEVEL = 50


class ApiError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} -> HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body

    @property
    def errcode(self) -> str:
        try:
            return str(json.loads(self.body).get("errcode", ""))
        except ValueError:
            return ""


class Api:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(method, path, exc.code, exc.read().decode(errors="replace")) from None
        return json.loads(raw) if raw else None


def quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def register(api: Api, secret: str, localpart: str, password: str, *, admin: bool) -> None:
    """Register through the shared-secret admin API; an existing user is fine."""
    nonce = api.call("GET", "/_synapse/admin/v1/register")["nonce"]
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    for part in (nonce, localpart, password):
        mac.update(part.encode() + b"\x00")
    mac.update(b"admin" if admin else b"notadmin")
    body = {
        "nonce": nonce,
        "username": localpart,
        "password": password,
        "admin": admin,
        "mac": mac.hexdigest(),
        # No device for the registration: the bot and the test clients make their own.
        "inhibit_login": True,
    }
    try:
        api.call("POST", "/_synapse/admin/v1/register", body)
    except ApiError as exc:
        if exc.errcode != "M_USER_IN_USE":
            raise


def login(api: Api, localpart: str, password: str, device_id: str) -> str:
    """A token for the bootstrap's own device of this user (the same device on every run)."""
    body = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": localpart},
        "password": password,
        "device_id": device_id,
        "initial_device_display_name": "scripts/synapse.sh bootstrap",
    }
    return str(api.call("POST", "/_matrix/client/v3/login", body)["access_token"])


class Tokens:
    """Bootstrap tokens kept in the run dir, so a reused server gets no new device per `up`."""

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self.path = path
        self.known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}

    def api(self, localpart: str, password: str) -> Api:
        token = self.known.get(localpart)
        if token:
            api = Api(self.url, token)
            try:
                api.call("GET", "/_matrix/client/v3/account/whoami")
                return api
            except ApiError as exc:
                if exc.status != 401:
                    raise
        token = login(Api(self.url), localpart, password, "BOOTSTRAP")
        self.known[localpart] = token
        self.path.write_text(json.dumps(self.known))
        self.path.chmod(0o600)
        return Api(self.url, token)


def room_by_alias(api: Api, alias: str) -> str | None:
    try:
        return str(api.call("GET", f"/_matrix/client/v3/directory/room/{quote(alias)}")["room_id"])
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def ensure_room(api: Api, alias: str, body: dict[str, Any]) -> str:
    room_id = room_by_alias(api, alias)
    if room_id is None:
        room_id = str(api.call("POST", "/_matrix/client/v3/createRoom", body)["room_id"])
    return room_id


def membership(api: Api, room_id: str, user_id: str) -> str:
    path = f"/_matrix/client/v3/rooms/{quote(room_id)}/state/m.room.member/{quote(user_id)}"
    try:
        return str(api.call("GET", path).get("membership", "leave"))
    except ApiError as exc:
        if exc.status == 404:
            return "leave"
        raise


def ensure_joined(admin: Api, member: Api, room_id: str, user_id: str) -> None:
    state = membership(admin, room_id, user_id)
    if state == "join":
        return
    if state != "invite":
        admin.call(
            "POST", f"/_matrix/client/v3/rooms/{quote(room_id)}/invite", {"user_id": user_id}
        )
    member.call("POST", f"/_matrix/client/v3/rooms/{quote(room_id)}/join", {})


def ensure_out(admin: Api, room_id: str, user_id: str) -> None:
    if membership(admin, room_id, user_id) in ("join", "invite"):
        admin.call(
            "POST",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/kick",
            {"user_id": user_id, "reason": "e2e bootstrap: intras ask to join"},
        )


def ensure_power(admin: Api, room_id: str, user_id: str) -> None:
    path = f"/_matrix/client/v3/rooms/{quote(room_id)}/state/m.room.power_levels/"
    levels = admin.call("GET", path)
    if levels.get("users", {}).get(user_id) == BOT_POWER and levels.get("invite") == INVITE_LEVEL:
        return
    levels.setdefault("users", {})[user_id] = BOT_POWER
    levels["invite"] = INVITE_LEVEL
    admin.call("PUT", path, levels)


def env_key(localpart: str) -> str:
    return "MX_USER_" + localpart.upper().replace(".", "_").replace("-", "_") + "_ID"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--server-name", required=True)
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--env-file", required=True, type=Path)
    args = parser.parse_args()
    secret = os.environ.get("INTRA_BOT_SYNAPSE_SHARED_SECRET", "")
    if not secret:
        print("INTRA_BOT_SYNAPSE_SHARED_SECRET is not set", file=sys.stderr)
        return 2

    def uid(localpart: str) -> str:
        return f"@{localpart}:{args.server_name}"

    anonymous = Api(args.url)
    register(anonymous, secret, ADMIN, ADMIN_PASSWORD, admin=True)
    register(anonymous, secret, BOT, BOT_PASSWORD, admin=False)
    for localpart in INTRA_USERS + REFERENT_USERS:
        register(anonymous, secret, localpart, USER_PASSWORD, admin=False)

    tokens = Tokens(args.url, args.run_dir / "bootstrap-tokens.json")
    admin = tokens.api(ADMIN, ADMIN_PASSWORD)
    members = {BOT: tokens.api(BOT, BOT_PASSWORD)}
    for localpart in INTRA_USERS + REFERENT_USERS:
        members[localpart] = tokens.api(localpart, USER_PASSWORD)

    public_alias = f"#{PUBLIC_ROOM[0]}:{args.server_name}"
    public = ensure_room(
        admin,
        public_alias,
        {
            "preset": "public_chat",
            "visibility": "public",
            "room_alias_name": PUBLIC_ROOM[0],
            "name": PUBLIC_ROOM[1],
            "topic": "Les intrapreneurs de beta.gouv.fr (e2e)",
        },
    )
    private_alias = f"#{PRIVATE_ROOM[0]}:{args.server_name}"
    private = ensure_room(
        admin,
        private_alias,
        {
            "preset": "private_chat",
            "room_alias_name": PRIVATE_ROOM[0],
            "name": PRIVATE_ROOM[1],
            "initial_state": [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ],
        },
    )
    for localpart, api in members.items():
        ensure_joined(admin, api, public, uid(localpart))
    for localpart in [BOT, *REFERENT_USERS]:
        ensure_joined(admin, members[localpart], private, uid(localpart))
    # A reused server starts from the documented state: intras ask to join the private
    # room, so one left in it by an earlier session (an accepted request) is taken out.
    for localpart in INTRA_USERS:
        ensure_out(admin, private, uid(localpart))
    ensure_power(admin, private, uid(BOT))

    lines = {
        "MX_HOMESERVER": args.url,
        "MX_SERVER_NAME": args.server_name,
        "MX_ADMIN_USER_ID": uid(ADMIN),
        "MX_ADMIN_TOKEN": admin.token or "",
        "MX_BOT_USER_ID": uid(BOT),
        "MX_BOT_PASSWORD": BOT_PASSWORD,
        "MX_USER_PASSWORD": USER_PASSWORD,
        "MX_REGISTRATION_SHARED_SECRET": secret,
        "MX_INTRA_USERS": ",".join(INTRA_USERS),
        "MX_REFERENT_USERS": ",".join(REFERENT_USERS),
        "MX_PUBLIC_ROOM_ID": public,
        "MX_PUBLIC_ROOM_ALIAS": public_alias,
        "MX_PRIVATE_ROOM_ID": private,
        "MX_PRIVATE_ROOM_ALIAS": private_alias,
        "MX_BOT_POWER_LEVEL": str(BOT_POWER),
    }
    for localpart in INTRA_USERS + REFERENT_USERS:
        lines[env_key(localpart)] = uid(localpart)
    tmp = args.env_file.with_suffix(".tmp")
    tmp.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    tmp.chmod(0o600)
    tmp.replace(args.env_file)
    print(f"bootstrap ok: public {public}, private {private}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
