"""`intra-bot setup`: register the /intra command, then check everything the bot needs.

Idempotent: a second run changes nothing. Each failed check comes with a one-line fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.adapters.checks import Check
from bot.adapters.mattermost.api import (
    MattermostApi,
    MattermostApiError,
    MattermostUnavailable,
    UserInfo,
)
from bot.adapters.mattermost.http import COMMAND_PATH
from bot.answers.commands import AUTOCOMPLETE_DESCRIPTION, DESCRIPTION, DISPLAY_NAME, hint_words
from bot.clock import utc_now
from bot.config import Settings
from bot.content.loader import Content
from bot.invitations.referents import ReferentAccounts
from bot.store import Store

TRIGGER = "intra"


def desired_command(settings: Settings, team_id: str, content: Content) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "trigger": TRIGGER,
        "method": "P",
        "url": settings.http.public_url.rstrip("/") + COMMAND_PATH,
        "display_name": DISPLAY_NAME,
        "description": DESCRIPTION,
        "auto_complete": True,
        "auto_complete_desc": AUTOCOMPLETE_DESCRIPTION,
        "auto_complete_hint": "[" + " | ".join(hint_words(content.topics)) + "]",
    }


async def run_setup(
    settings: Settings,
    content: Content,
    api: MattermostApi,
    command_api: MattermostApi,
    say: Callable[[str], None],
    store: Store | None = None,
) -> bool:
    """Register the command with `command_api` (bot or admin token), check with `api`; with
    the `store`, pin each deciding referent's username to the account it names now."""
    checks: list[Check] = []

    def record(check: Check) -> Check:
        checks.append(check)
        say(str(check))
        return check

    try:
        me = await api.me()
    except MattermostUnavailable as error:
        record(
            Check(
                False,
                f"Mattermost answers at {settings.mattermost.url}",
                f"check mattermost.url and that the server runs ({error})",
            )
        )
        return False
    except MattermostApiError as error:
        record(
            Check(
                False,
                "the bot token works",
                f"set mattermost.token to the bot account's access token ({error.status})",
            )
        )
        return False
    record(
        Check(True, f"the bot token works (@{me.username}{', a bot account' if me.is_bot else ''})")
    )

    try:
        team_id = await api.team_id(settings.mattermost.team)
    except MattermostApiError:
        record(
            Check(
                False,
                f"team '{settings.mattermost.team}' exists",
                f"set mattermost.team to the team's name (in its URL) and add @{me.username} to it",
            )
        )
        return False
    record(Check(True, f"team '{settings.mattermost.team}' exists"))

    await _register_command(settings, content, command_api, team_id, say, record)

    public_name = settings.mattermost.public_channel
    private_name = settings.mattermost.private_channel
    for name, private in ((public_name, False), (private_name, True)):
        try:
            channel = await api.channel(team_id, name)
        except MattermostApiError:
            hint = (
                f"create the private channel ~{name} (or fix mattermost.private_channel) and add @{me.username} to it as channel admin"
                if private
                else f"create ~{name} or fix mattermost.public_channel"
            )
            record(Check(False, f"channel ~{name} exists and the bot can see it", hint))
            continue
        record(Check(True, f"channel ~{name} exists"))
        roles = await api.channel_roles(channel.id, me.id)
        if roles is None:
            record(
                Check(
                    False,
                    f"the bot is a member of ~{name}",
                    f"in ~{name}, type: /invite @{me.username}",
                )
            )
            continue
        record(Check(True, f"the bot is a member of ~{name}"))
        if private:
            is_admin = "channel_admin" in roles
            record(
                Check(
                    is_admin,
                    f"the bot is channel admin of ~{name}",
                    f"in ~{name}: Members > @{me.username} > Make channel admin",
                )
            )

    usernames = [
        person.comptes.mattermost
        for person in content.referents.referents
        if person.comptes.mattermost
    ]
    found = await api.users_by_usernames(usernames)
    for username in usernames:
        user = found.get(username)
        record(
            Check(
                user is not None and not user.delete_at and not user.is_bot,
                f"referent @{username} exists and is an active person",
                "fix the « mattermost » field of this referent in content/referents.yaml "
                + ("(no such user)" if user is None else "(a deactivated account or a bot)"),
            )
        )
    if store is not None:
        await _pin_referents(store, content, found, say)
    failed = [check for check in checks if not check.ok]
    say("all checks passed" if not failed else f"{len(failed)} check(s) failed")
    return not failed


class _Found:
    """The usernames setup resolved, as the pins' directory (active people only)."""

    name = "mattermost"

    def __init__(self, found: dict[str, UserInfo]) -> None:
        self._ids = {n: u.id for n, u in found.items() if not u.delete_at and not u.is_bot}

    async def user_ids(self, usernames: list[str]) -> dict[str, str]:
        return {name: self._ids[name] for name in usernames if name in self._ids}


async def _pin_referents(
    store: Store, content: Content, found: dict[str, UserInfo], say: Callable[[str], None]
) -> None:
    """Setup is the operator's confirmation of who each referent is: pin what resolves now
    (bot/invitations/referents.py); the bot then trusts those ids only."""
    deciding = [
        person.comptes.mattermost
        for person in content.referents.referents
        if person.handles_invitations and person.comptes.mattermost
    ]
    result = await ReferentAccounts(store, utc_now).verify(_Found(found), deciding, repin=True)
    for username, user_id in result.trusted.items():
        person = found[username]
        say(
            f"      referent @{username} pinned to user id {user_id}"
            + (f" ({person.full_name})" if person.full_name else "")
        )


async def _register_command(
    settings: Settings,
    content: Content,
    api: MattermostApi,
    team_id: str,
    say: Callable[[str], None],
    record: Callable[[Check], Check],
) -> None:
    desired = desired_command(settings, team_id, content)
    try:
        existing = [
            c
            for c in await api.list_commands(team_id)
            if c.get("trigger") == TRIGGER and not c.get("delete_at")
        ]
        if existing:
            current = existing[0]
            changed = {k: v for k, v in desired.items() if current.get(k) != v}
            if changed:
                command = await api.update_command({**current, **desired})
                record(Check(True, f"/{TRIGGER} command updated ({', '.join(sorted(changed))})"))
            else:
                command = current
                record(Check(True, f"/{TRIGGER} command already registered, unchanged"))
        else:
            command = await api.create_command(desired)
            record(Check(True, f"/{TRIGGER} command created"))
    except MattermostApiError as error:
        record(
            Check(
                False,
                f"/{TRIGGER} command registered",
                "the token used cannot manage slash commands: run setup with an admin's token "
                f"in INTRA_BOT_SETUP_ADMIN_TOKEN, or make the bot a team admin ({error.status} {error.error_id})",
            )
        )
        return
    say(f"      URL called by Mattermost: {desired['url']}")
    say("      put this in config.toml ([http] section) or in INTRA_BOT_HTTP__COMMAND_TOKENS:")
    say(f'      command_tokens = ["{command.get("token", "")}"]')
