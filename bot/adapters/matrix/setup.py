"""`intra-bot setup --platform matrix`: check what the bot needs on the homeserver, say each fix.

Logs in once (or reuses the stored session, as `run` will), joins the configured
rooms it is invited to, and compares its power level with what it does there:
post and edit notices and add reactions in both rooms, invite accepted people into
the private one (as Tchap's own bots check before inviting). Idempotent: a second
run changes nothing. Messages are for the operator, in English.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mautrix.api import Method, Path
from mautrix.client import Client
from mautrix.errors import MatrixConnectionError, MatrixError, MatrixRequestError
from mautrix.types import RoomAlias, RoomID, UserID

from bot.adapters.checks import Check
from bot.adapters.matrix.addressing import server_of
from bot.adapters.matrix.http import PacedHTTPAPI
from bot.adapters.matrix.limiter import RateLimiter
from bot.adapters.matrix.recovery_key import recovery_key_path
from bot.adapters.matrix.session import MatrixStartupError, establish
from bot.config import MatrixSettings, Settings
from bot.content.loader import DEFAULT_CONTENT_DIR, load_content
from bot.store import Store, StoreError

MESSAGE = "m.room.message"  # notices, and their edits (m.replace is a message too)
REACTION = "m.reaction"  # the ✅/❌ under a request to the referents


def needed_levels(levels: dict[str, Any], *, private: bool) -> dict[str, int]:
    """What the bot does in a room -> the power level it takes (the spec's defaults)."""
    events = levels.get("events") or {}
    default = int(levels.get("events_default", 0))
    needs = {
        f"events.{MESSAGE}": int(events.get(MESSAGE, default)),
        f"events.{REACTION}": int(events.get(REACTION, default)),
    }
    if private:
        needs["invite"] = int(levels.get("invite", 0))
    return needs


def user_level(levels: dict[str, Any], user_id: str) -> int:
    return int((levels.get("users") or {}).get(user_id, levels.get("users_default", 0)))


def power_checks(levels: dict[str, Any], user_id: str, room: str, *, private: bool) -> list[Check]:
    """One check per thing the bot does in `room`, failed with the exact grant to make."""
    have = user_level(levels, user_id)
    checks = []
    for what, needed in needed_levels(levels, private=private).items():
        checks.append(
            Check(
                have >= needed,
                f"{user_id} has power level {have} in {room}, enough for {what} ({needed})",
                f"grant {user_id} power level {needed} in {room} (needs {what}={needed})",
            )
        )
    return checks


def who_can_invite(levels: dict[str, Any]) -> list[str]:
    invite = int(levels.get("invite", 0))
    users = levels.get("users") or {}
    return sorted(user for user, level in users.items() if int(level) >= invite)


class MatrixSetup:
    def __init__(self, client: Client, settings: MatrixSettings, say: Callable[[str], None]):
        self.client = client
        self.settings = settings
        self.say = say
        self.checks: list[Check] = []

    def record(self, check: Check) -> Check:
        self.checks.append(check)
        self.say(str(check))
        return check

    async def room(self, configured: str, key: str, *, private: bool) -> None:
        me = self.client.mxid
        if not configured:
            self.record(Check(False, f"matrix.{key} is set", f"set matrix.{key} (!id or #alias)"))
            return
        try:
            room_id = await self._room_id(configured)
        except MatrixError as error:
            self.record(
                Check(
                    False,
                    f"room {configured} exists",
                    f"create it or fix matrix.{key} ({error})",
                )
            )
            return
        label = configured if configured == room_id else f"{configured} ({room_id})"
        if room_id in await self.client.get_joined_rooms():
            self.record(Check(True, f"{me} is a member of {label}"))
        else:
            try:
                # An invitation (or a public room) is accepted here, as the bot would.
                await self.client.join_room_by_id(RoomID(room_id))
            except MatrixRequestError:
                levels = await self._levels(room_id)
                inviters = ", ".join(who_can_invite(levels)) if levels else ""
                who = f"one of {inviters}" if inviters else "a member allowed to invite"
                self.record(
                    Check(
                        False,
                        f"{me} is a member of {label}",
                        f"{who} must invite {me} into {label}; then run setup again "
                        "(it accepts the invitation)",
                    )
                )
                return
            self.record(Check(True, f"{me} joined {label} (it was invited or the room is public)"))
        levels = await self._levels(room_id)
        if levels is None:
            self.record(
                Check(False, f"power levels of {label} readable", f"check {me} is in {label}")
            )
            return
        for check in power_checks(levels, me, label, private=private):
            self.record(check)

    async def _room_id(self, configured: str) -> str:
        if configured.startswith("#"):
            info = await self.client.resolve_room_alias(RoomAlias(configured))
            return str(info.room_id)
        return configured

    async def _levels(self, room_id: str) -> dict[str, Any] | None:
        """The raw power levels (mautrix's model fills in defaults that differ from the spec)."""
        path = Path.v3.rooms[RoomID(room_id)].state["m.room.power_levels"]
        try:
            raw = await self.client.api.request(Method.GET, path)
        except MatrixRequestError:
            return None
        return dict(raw)


async def setup_matrix(settings: Settings, say: Callable[[str], None]) -> bool:
    """With the bot's store: the session a first login makes is kept there for `run`.

    A configuration `run` would refuse (no place for the recovery key) raises ConfigError
    before anything connects.
    """
    if settings.matrix.homeserver:
        recovery_key_path(settings.matrix, settings.store.url)
    try:
        store = Store.open(settings.store.url)
    except StoreError as error:
        say(str(Check(False, "the store opens", f"check [store] url ({error})")))
        return False
    try:
        return await run_matrix_setup(settings.matrix, store, say, referents_check(settings))
    finally:
        store.close()


def referents_check(settings: Settings) -> Check:
    """Requests made on Tchap go to the referents' Tchap accounts: at least one is needed."""
    content = load_content(settings.content.dir or DEFAULT_CONTENT_DIR)
    people = content.referents.referents
    ids = [p.comptes.tchap for p in people if p.handles_invitations and p.comptes.tchap]
    return Check(
        bool(ids),
        f"a referent who handles invitations has a Tchap account ({len(ids)} found)",
        "add their Matrix id as comptes.tchap in content/referents.yaml "
        "(handles_invitations: true), then run intra-bot check",
    )


async def run_matrix_setup(
    settings: MatrixSettings,
    store: Store,
    say: Callable[[str], None],
    referents: Check | None = None,
) -> bool:
    """Every check, printed as it goes; True when nothing blocks the bot."""
    if not settings.homeserver or not server_of(settings.user_id):
        say(str(Check(False, "matrix.homeserver and matrix.user_id are set", _MISSING)))
        return False
    api = PacedHTTPAPI(
        settings.homeserver,
        limiter=RateLimiter(settings.requests_per_second, settings.burst),
        default_retry_count=0,
    )
    client = Client(mxid=UserID(settings.user_id), api=api)
    setup = MatrixSetup(client, settings, say)
    try:
        try:
            session = await establish(client, settings, store)
        except MatrixStartupError as error:
            setup.record(Check(False, f"{settings.user_id} can log in", str(error)))
            return False
        except (MatrixConnectionError, MatrixRequestError, OSError) as error:
            setup.record(
                Check(
                    False,
                    f"the homeserver answers at {settings.homeserver}",
                    f"check matrix.homeserver and that the server runs ({error.__class__.__name__})",
                )
            )
            return False
        setup.record(
            Check(True, f"session of {settings.user_id} works (device {session.device_id})")
        )
        await setup.room(settings.public_room, "public_room", private=False)
        await setup.room(settings.private_room, "private_room", private=True)
        if referents is not None:
            setup.record(referents)
    finally:
        await client.api.session.close()
    failed = [check for check in setup.checks if not check.ok]
    say("all checks passed" if not failed else f"{len(failed)} check(s) failed")
    return not failed


_MISSING = (
    "fill the [matrix] section: homeserver (client API URL) and user_id (@name:server), "
    "see config.example.toml"
)
