"""The `intra-bot` command line: ask, console, check (and, with a server, run and setup)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.answers import answer
from bot.config import ConfigError, load_settings
from bot.console import render, run_console
from bot.content import DEFAULT_CONTENT_DIR, Content, load_content
from bot.content_errors import ContentError

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_OK
    try:
        return int(args.handler(args))
    except ContentError as error:
        _print_content_error(error)
        return EXIT_BAD_INPUT
    except ConfigError as error:
        print(f"Configuration error:\n{error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intra-bot", description="Community assistant of the beta.gouv.fr intrapreneurs."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = commands.add_parser("ask", help="print the reply to « /intra <text> »")
    ask.add_argument("text", nargs="*", help="what you would type after /intra")
    _content_option(ask)
    ask.set_defaults(handler=_ask)

    console = commands.add_parser("console", help="talk to the bot in this terminal")
    _content_option(console)
    console.set_defaults(handler=_console)

    check = commands.add_parser("check", help="validate the content (and the config, if any)")
    _content_option(check)
    check.add_argument("--config", type=Path, help="also validate this config file")
    check.set_defaults(handler=_check)
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
    import os

    return load_content(os.environ.get("INTRA_BOT_CONTENT__DIR") or DEFAULT_CONTENT_DIR)


def _ask(args: argparse.Namespace) -> int:
    content = _content(args)
    print(render(answer(" ".join(args.text), content)))
    return EXIT_OK


def _console(args: argparse.Namespace) -> int:
    content = _content(args)
    return run_console(
        lambda text: answer(text, content),
        sys.stdin,
        sys.stdout,
        interactive=sys.stdin.isatty(),
    )


def _check(args: argparse.Namespace) -> int:
    content = _content(args)
    if args.config is not None:
        load_settings(args.config)
    topics = len(content.topics)
    print(f"Contenu valide : {topics} sujets dans {content.directory}.")
    return EXIT_OK


def _print_content_error(error: ContentError) -> None:
    count = len(error.problems)
    print(
        f"Le contenu a {count} problème{'s' if count > 1 else ''} :",
        file=sys.stderr,
    )
    for problem in error.problems:
        print(f"- {problem}", file=sys.stderr)
