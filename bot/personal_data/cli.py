"""`intra-bot export <user>` and `intra-bot forget <user>`: one person's data, for their rights.

Like `bot/cli.py` this is an entry point: it gathers the features' keepers, the Matrix
adapter's among them when Matrix is configured (imported only then: mautrix is optional).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the store and the features are imported when a command runs
    from bot.config import Settings
    from bot.personal_data.model import Keeper
    from bot.store import Store

Work = Callable[[Sequence["Keeper"]], Coroutine[Any, Any, None]]

EXIT_OK = 0
EXIT_BAD_INPUT = 2

USER_HELP = (
    "a Mattermost user id or username, or a Matrix id (@name:server); a username is "
    "resolved through the store only (an invitation or a referent's pin links it to an id), never the platform"
)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser(
        "export", help="print everything the store keeps about one person, as JSON"
    )
    forget = commands.add_parser(
        "forget", help="erase (or anonymise) one person's data in every table, and say what"
    )
    for parser, handler in ((export, _export), (forget, _forget)):
        parser.add_argument("user", help=USER_HELP)
        parser.add_argument("--config", type=Path, help="config file (default: ./config.toml)")
        parser.set_defaults(handler=handler)


def keepers(settings: Settings, store: Store) -> list[Keeper]:
    from bot.config import ConfigError, missing_matrix_extra
    from bot.invitations.personal import InvitationsKeeper, ReferentPinsKeeper
    from bot.outbox.personal import OutboxKeeper
    from bot.personal_data.unlinked import UnlinkedRecords
    from bot.subscriptions.personal import SubscriptionsKeeper

    found: list[Keeper] = [
        InvitationsKeeper(store),
        ReferentPinsKeeper(store),
        OutboxKeeper(store),
        SubscriptionsKeeper(store),
        UnlinkedRecords(settings),
    ]
    if settings.matrix.homeserver or settings.matrix.crypto_store_url:
        try:
            from bot.adapters.matrix.personal import MatrixKeeper
            from bot.adapters.matrix.stores import MatrixStoreError, crypto_store_url
        except ImportError as error:
            message = missing_matrix_extra(error)
            if message is None:
                raise
            raise ConfigError(message) from None
        try:
            state_url = crypto_store_url(settings.matrix.crypto_store_url, settings.store.url)
        except MatrixStoreError:
            state_url = ""  # an in-memory store has no room state to erase
        found.append(MatrixKeeper(store, state_url))
    return found


def _export(args: argparse.Namespace) -> int:
    import json

    from bot.personal_data.model import export_all, resolve

    async def go(people: Sequence[Keeper]) -> None:
        person = await resolve(args.user, people)
        data = await export_all(person, people)
        print(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str))

    return _with_store(args, go)


def _forget(args: argparse.Namespace) -> int:
    from bot.personal_data.model import forget_all, resolve

    async def go(people: Sequence[Keeper]) -> None:
        person = await resolve(args.user, people)
        print(
            f"Forgetting {person.given} (ids: {', '.join(sorted(person.ids))}; "
            f"usernames: {', '.join(sorted(person.usernames)) or '-'})"
        )
        for outcome in await forget_all(person, people):
            print(outcome.line())

    return _with_store(args, go)


def _with_store(args: argparse.Namespace, go: Work) -> int:
    import asyncio
    import sys

    from bot.config import load_settings
    from bot.personal_data.model import BadPerson
    from bot.store import Store, StoreError

    settings = load_settings(args.config)
    missing = _missing_sqlite_file(settings.store.url)
    if missing is not None:  # opening it would create an empty store, and find nobody
        print(
            f"Cannot open the store: {missing} does not exist (check [store] url, or pass "
            "--config with the configuration the bot runs with)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    try:
        store = Store.open(settings.store.url)
    except StoreError as error:
        print(f"Cannot open the store: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        asyncio.run(go(keepers(settings, store)))
    except BadPerson as error:
        print(f"Cannot find that person: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        store.close()
    return EXIT_OK


def _missing_sqlite_file(url: str) -> Path | None:
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return None
    path = Path(url.removeprefix("sqlite:///").split("?", 1)[0]).expanduser()
    return None if path.exists() else path
