"""Which account each deciding referent is: pinned to the platform's immutable user id.

`content/referents.yaml` names referents by the account people know (a Mattermost username,
a Matrix id). A username can change hands: the referent renames, leaves, or is listed before
her account exists, and whoever takes the name would decide who enters the private channel.
So a username is resolved to its user id once and pinned in the store; from then on the bot
trusts and addresses that id only.

- `intra-bot setup` pins (or re-pins) every account it resolves: the operator's confirmation.
- At each connection and every hour the bot resolves the accounts again. A pin that matches
  is trusted. A username that now resolves to another id, or no longer resolves, holds that
  referent's rights (decisions, notices, recalls) until the mapping is right again or setup
  is rerun; the log says so, and /healthz shows a warning.
- A platform with no pin at all (a first start, or a store older than pins) pins what it
  resolves, so an upgrade keeps its referents; a referent added later waits for setup.
- Where the account is the user id itself (Matrix ids), it is pinned as it is: nothing can
  change hands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import Column, String, Table, delete, insert, select, update

from bot.clock import Clock
from bot.schema import UtcDateTime, create_tables, metadata
from bot.store import Store

log = logging.getLogger(__name__)

referent_accounts = Table(
    "referent_accounts",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("account", String(255), primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("pinned_at", UtcDateTime(), nullable=False),
)

# Why a referent's rights are held, as /healthz and the log say it.
MISSING = "not found on the platform (renamed, deactivated or not created yet)"
CHANGED = "now belongs to another account than the one pinned"
UNPINNED = "not pinned yet"
RERUN_SETUP = "check content/referents.yaml, then run `intra-bot setup` to pin the accounts"


class Directory(Protocol):
    """What resolving accounts needs of a platform (a `ChatPlatform`, or setup's API)."""

    name: str

    async def user_ids(self, usernames: list[str]) -> dict[str, str]: ...


@dataclass
class Verification:
    """What one look at a platform found, account by account."""

    trusted: dict[str, str] = field(default_factory=dict)  # account -> pinned user id
    held: dict[str, str] = field(default_factory=dict)  # account -> why
    pinned: dict[str, str] = field(default_factory=dict)  # pinned by this look


class ReferentAccounts:
    """The pins (in the store) and the last verification (in memory, redone at each start)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._engine = store.engine
        self._clock = clock
        create_tables(self._engine, [referent_accounts])
        self._pins: dict[str, dict[str, str]] = {}
        self._held: dict[str, dict[str, str]] = {}

    # -- reading ---------------------------------------------------------------------

    def trusted_ids(self, platform: str, accounts: Iterable[str]) -> dict[str, str]:
        """account -> user id, for the `accounts` that are pinned and not held."""
        pins = self._cached_pins(platform)
        held = self._held.get(platform, {})
        return {a: pins[a] for a in accounts if a in pins and a not in held}

    def problems(self) -> dict[str, dict[str, str]]:
        """platform -> account -> why its rights are held (empty when all is well)."""
        return {name: dict(held) for name, held in self._held.items() if held}

    def _cached_pins(self, platform: str) -> dict[str, str]:
        if platform not in self._pins:
            self._pins[platform] = self._read_pins(platform)
        return self._pins[platform]

    def _read_pins(self, platform: str) -> dict[str, str]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(referent_accounts.c.account, referent_accounts.c.user_id).where(
                    referent_accounts.c.platform == platform
                )
            ).all()
        return {str(account): str(user_id) for account, user_id in rows}

    # -- checking --------------------------------------------------------------------

    async def verify(
        self, platform: Directory, accounts: list[str], *, repin: bool = False
    ) -> Verification:
        """Resolve `accounts` on `platform` and compare with the pins; `repin` (setup) pins
        whatever resolves now. Raises what the platform raises when it cannot be reached."""
        resolved = await platform.user_ids(accounts)
        return await asyncio.to_thread(self._compare, platform.name, accounts, resolved, repin)

    def _compare(
        self, name: str, accounts: list[str], resolved: dict[str, str], repin: bool
    ) -> Verification:
        pins = self._read_pins(name)  # fresh: another process's setup may have pinned
        first = not pins
        result = Verification()
        for account in accounts:
            current, pinned = resolved.get(account), pins.get(account)
            if current is None:
                result.held[account] = MISSING
            elif current == pinned:
                result.trusted[account] = current
            elif pinned is None and (repin or first or current == account):
                result.pinned[account] = result.trusted[account] = current
            elif pinned is None:
                result.held[account] = UNPINNED
            elif repin:
                result.pinned[account] = result.trusted[account] = current
            else:
                result.held[account] = CHANGED
        now = self._clock()
        for account, user_id in result.pinned.items():
            self._pin(name, account, user_id, pins.get(account), now)
        if repin:  # accounts no longer listed keep no pin for a later, different person
            for gone in set(pins) - set(accounts):
                self._unpin(name, gone)
        pins = self._read_pins(name)
        for account, user_id in list(result.trusted.items()):
            if pins.get(account) != user_id:  # another replica pinned someone else first
                del result.trusted[account]
                result.pinned.pop(account, None)
                result.held[account] = CHANGED
        self._pins[name] = pins
        self._held[name] = result.held
        self._log(name, result, pins)
        return result

    def _pin(
        self, platform: str, account: str, user_id: str, before: str | None, now: datetime
    ) -> None:
        with self._engine.begin() as connection:
            if before is None:
                # Two replicas pinning at once: the first row stands, the other is a no-op.
                exists = connection.execute(
                    select(referent_accounts.c.user_id).where(
                        referent_accounts.c.platform == platform,
                        referent_accounts.c.account == account,
                    )
                ).first()
                if exists is None:
                    connection.execute(
                        insert(referent_accounts).values(
                            platform=platform, account=account, user_id=user_id, pinned_at=now
                        )
                    )
                    return
            connection.execute(
                update(referent_accounts)
                .where(
                    referent_accounts.c.platform == platform,
                    referent_accounts.c.account == account,
                )
                .values(user_id=user_id, pinned_at=now)
            )

    def _unpin(self, platform: str, account: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                delete(referent_accounts).where(
                    referent_accounts.c.platform == platform,
                    referent_accounts.c.account == account,
                )
            )

    @staticmethod
    def _log(name: str, result: Verification, pins: dict[str, str]) -> None:
        for account, user_id in result.pinned.items():
            log.info(
                "event=referent_pinned platform=%s account=%s user_id=%s",
                name,
                account,
                user_id,
            )
        for account, why in result.held.items():
            log.error(
                "event=referent_held platform=%s account=%s pinned=%s why=%r hint=%r",
                name,
                account,
                pins.get(account, ""),
                why,
                RERUN_SETUP,
            )
