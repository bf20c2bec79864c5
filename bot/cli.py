"""The `intra-bot` command line: ask, console, check (and, with a server, run and setup);
export and forget one person's data (bot/personal_data/cli.py)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.adapters.console import render, run_console
from bot.answers.conversation import Conversation
from bot.chat import Message, Reply, User
from bot.club.service import ClubService
from bot.config import ConfigError, load_settings, missing_matrix_extra
from bot.content.errors import ContentError
from bot.content.loader import DEFAULT_CONTENT_DIR, Content, ContentSource, load_content
from bot.personal_data.cli import add_commands as add_personal_data_commands

EXIT_OK = 0
EXIT_BAD_INPUT = 2
# What a shell reports for a writer stopped by SIGPIPE (128 + 13), as `seq … | head -1` does.
EXIT_CLOSED_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_OK
    try:
        status = int(args.handler(args))
        sys.stdout.flush()  # meet a closed pipe here rather than at interpreter exit
        return status
    except ContentError as error:
        _print_content_error(error)
        return EXIT_BAD_INPUT
    except ConfigError as error:
        print(f"Configuration error:\n{error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _closed_pipe()


def _closed_pipe() -> int:
    """The reader went away (`intra-bot ask … | head -1`): stop quietly, no traceback.

    Python would still try to flush stdout at exit and print a second error; pointing the
    descriptor at /dev/null makes that flush a no-op.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_CLOSED_PIPE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intra-bot",
        description="Community assistant of the beta.gouv.fr intrapreneurs, on Mattermost and Tchap.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = commands.add_parser("ask", help="print the reply to « /intra <text> »")
    ask.add_argument("text", nargs="*", help="what you would type after /intra")
    ask.add_argument(
        "--explain", action="store_true", help="show the ranked units, scores and matched words"
    )
    _content_option(ask)
    ask.set_defaults(handler=_ask)

    console = commands.add_parser("console", help="talk to the bot in this terminal")
    _content_option(console)
    console.set_defaults(handler=_console)

    check = commands.add_parser("check", help="validate the content (and the config, if any)")
    _content_option(check)
    check.add_argument("--config", type=Path, help="also validate this config file")
    check.set_defaults(handler=_check)

    club = commands.add_parser(
        "club", help="the next club dates and when each reminder will be posted, and where"
    )
    _content_option(club)
    club.add_argument("--count", type=int, default=3, help="how many club dates (default 3)")
    club.add_argument("--text", action="store_true", help="also print each reminder's text")
    club.add_argument("--config", type=Path, help="config file (for the subscription link)")
    club.set_defaults(handler=_club)

    unanswered = commands.add_parser(
        "unanswered", help="the questions the bot could not answer, grouped and counted"
    )
    unanswered.add_argument(
        "--since",
        type=_date,
        default=None,
        metavar="DATE",
        help="from this day (YYYY-MM-DD; default: 30 days ago)",
    )
    unanswered.add_argument("--config", type=Path, help="config file (for the store's URL)")
    unanswered.set_defaults(handler=_unanswered)

    run = commands.add_parser(
        "run",
        help="serve what is configured, Mattermost, Tchap or both: answers, reminders, join requests",
    )
    run.add_argument("--config", type=Path, help="config file (default: ./config.toml)")
    run.set_defaults(handler=_run)

    setup = commands.add_parser(
        "setup",
        help="check a platform's side and print each fix (Mattermost: also register /intra)",
    )
    setup.add_argument("--config", type=Path, help="config file (default: ./config.toml)")
    setup.add_argument(
        "--platform",
        choices=("mattermost", "matrix"),
        default="mattermost",
        help="mattermost (default): register /intra, check team, channels, referents; "
        "matrix: log in once, join the [matrix] rooms when invited, check power levels",
    )
    setup.set_defaults(handler=_setup)
    add_personal_data_commands(commands)  # export, forget
    return parser


def _content_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--content",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"content directory (default: $INTRA_BOT_CONTENT__DIR or {DEFAULT_CONTENT_DIR})",
    )


def _content(args: argparse.Namespace) -> Content:
    if args.content is not None:
        return load_content(args.content)
    return load_content(os.environ.get("INTRA_BOT_CONTENT__DIR") or DEFAULT_CONTENT_DIR)


def _offline(args: argparse.Namespace) -> Conversation:
    """The conversation without a server: the content, and the club dates from the rule."""
    source = ContentSource.of(_content(args))
    conversation = Conversation(source)
    conversation.serve_topic("club", ClubService(source, store=None, owner="console").reply)
    return conversation


def _respond(conversation: Conversation, text: str) -> Reply:
    user = User(id="console", username="console")
    return asyncio.run(conversation.respond(Message(text=text, user=user, channel_id="console")))


def _ask(args: argparse.Namespace) -> int:
    if args.explain:
        from bot.answers.explain import explain

        print(explain(" ".join(args.text), _content(args)))
        return EXIT_OK
    conversation = _offline(args)
    print(render(_respond(conversation, " ".join(args.text))))
    return EXIT_OK


def _console(args: argparse.Namespace) -> int:
    conversation = _offline(args)
    return run_console(
        lambda text: _respond(conversation, text),
        sys.stdin,
        sys.stdout,
        interactive=sys.stdin.isatty(),
    )


def _club(args: argparse.Namespace) -> int:
    from bot.club.preview import preview

    settings = load_settings(args.config) if args.config else None
    public_url = settings.http.public_url if settings else ""
    print(preview(_content(args), count=args.count, show_text=args.text, public_url=public_url))
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from bot.answers.clashes import command_clashes

    content = _content(args)
    clashes = command_clashes(content)
    if clashes:  # valid for the loader, but a topic would hide a command
        raise ContentError(clashes)
    if args.config is not None:
        load_settings(args.config)
    topics = len(content.topics)
    units = len(content.retriever.units)
    groups = len(content.synonyms.groups)
    print(
        f"Contenu valide : {topics} sujets, {units} unités de réponse, "
        f"{groups} groupes de synonymes, dans {content.directory}."
    )
    return EXIT_OK


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date: write YYYY-MM-DD") from None


def _unanswered(args: argparse.Namespace) -> int:
    from bot.answers.question_log import QuestionLog
    from bot.answers.unanswered_report import unanswered_report
    from bot.store import Store, StoreError

    settings = load_settings(args.config)
    since = (
        dt.datetime.combine(args.since, dt.time(), tzinfo=dt.UTC)
        if args.since
        else dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    )
    try:
        store = Store.open(settings.store.url)
    except StoreError as error:
        print(f"Cannot open the store: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        groups = QuestionLog(store).unanswered(since)
    finally:
        store.close()
    print(unanswered_report(groups, since.date()))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from bot.answers.conversation import RegistrationError
    from bot.app import BotApp, StartupError
    from bot.logs import configure_logging
    from bot.store import StoreError

    settings = load_settings(args.config)
    configure_logging(settings.logging.level, settings.logging.format)
    if not settings.mattermost.token.get_secret_value() and not settings.matrix.homeserver:
        raise ConfigError(
            "nothing to serve: set mattermost.token (INTRA_BOT_MATTERMOST__TOKEN) for "
            "Mattermost, matrix.homeserver (INTRA_BOT_MATRIX__HOMESERVER) for Tchap, or both"
        )
    if settings.matrix.homeserver:
        from bot.adapters.matrix.recovery_key import recovery_key_path

        # Before the store opens: a store that is not a file needs the key's place configured.
        recovery_key_path(settings.matrix, settings.store.url)
    try:
        app = BotApp(settings)
        asyncio.run(app.run())
    except (StartupError, StoreError, RegistrationError) as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _setup(args: argparse.Namespace) -> int:
    if args.platform == "matrix":
        return _setup_matrix(args)
    from bot.adapters.mattermost.api import MattermostApi
    from bot.adapters.mattermost.setup import run_setup
    from bot.store import Store, StoreError

    settings = load_settings(args.config)
    content = load_content(settings.content.dir or DEFAULT_CONTENT_DIR)

    async def go() -> bool:
        store = Store.open(settings.store.url)  # where the referents' accounts are pinned
        api = MattermostApi(settings.mattermost.url, settings.mattermost.token.get_secret_value())
        admin_token = os.environ.get("INTRA_BOT_SETUP_ADMIN_TOKEN", "")
        command_api = MattermostApi(settings.mattermost.url, admin_token) if admin_token else api
        try:
            return await run_setup(settings, content, api, command_api, print, store)
        finally:
            store.close()
            await api.close()
            if command_api is not api:
                await command_api.close()

    try:
        return EXIT_OK if asyncio.run(go()) else 1
    except StoreError as error:
        print(f"Cannot set up: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _setup_matrix(args: argparse.Namespace) -> int:
    try:
        from bot.adapters.matrix.setup import setup_matrix
    except ImportError as error:  # mautrix is the optional `matrix` extra
        message = missing_matrix_extra(error)
        if message is None:
            raise
        print(f"Cannot set up: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    settings = load_settings(args.config)
    return EXIT_OK if asyncio.run(setup_matrix(settings, print)) else 1


def _print_content_error(error: ContentError) -> None:
    count = len(error.problems)
    print(
        f"Le contenu a {count} problème{'s' if count > 1 else ''} :",
        file=sys.stderr,
    )
    for problem in error.problems:
        print(f"- {problem}", file=sys.stderr)
