"""`intra-bot ask`, `console` and `check` as a user runs them: real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        env=env,
    )


def content_with_alias(directory: Path, alias: str) -> Path:
    """A copy of the content whose career topic also answers to `alias`."""
    for source in (ROOT / "content").glob("*.yaml"):
        (directory / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    path = directory / "carriere.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("aliases: [", f"aliases: [{alias}, ", 1), encoding="utf-8")
    return directory


def test_ask_prints_the_reply() -> None:
    result = run("ask", "referents")
    assert result.returncode == 0, result.stderr
    assert "Marine Purson" in result.stdout
    assert "marine.purson@beta.gouv.fr" in result.stdout


def test_ask_with_the_slash_prefix_and_accents() -> None:
    result = run("ask", "/intra", "carrière")
    assert result.returncode == 0
    assert "accompagnement des carrières" in result.stdout


def test_console_answers_each_line_until_quit() -> None:
    result = run("console", stdin="aide\n/intra certification\nquit\nclub\n")
    assert result.returncode == 0, result.stderr
    assert "`/intra referents`" in result.stdout
    assert "RS6247" in result.stdout
    assert "premier jeudi" not in result.stdout  # nothing after quit
    assert result.stdout.rstrip().endswith("À bientôt !")


def test_console_ends_on_end_of_input() -> None:
    result = run("console", stdin="qui sont les référents ?\n")
    assert result.returncode == 0
    assert "Marine Purson" in result.stdout and "responsable de partenariat" in result.stdout


def test_check_good_content() -> None:
    result = run("check")
    assert result.returncode == 0
    assert "Contenu valide" in result.stdout


def test_check_bad_content_exits_2_without_traceback(tmp_path: Path) -> None:
    for source in (ROOT / "content").glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "referents.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("    email: marine", "    emial: marine"),
        encoding="utf-8",
    )
    result = run("check", "--content", str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert 'champ inconnu "emial" — vouliez-vous dire "email" ?' in result.stderr
    assert "referents.yaml, ligne" in result.stderr


def test_check_reports_a_topic_named_like_a_command(tmp_path: Path) -> None:
    result = run("check", "--content", str(content_with_alias(tmp_path, "demandes")))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "carriere.yaml, ligne 6 : « demandes » est aussi une commande" in result.stderr


def test_run_will_not_start_when_a_topic_takes_a_command_name(tmp_path: Path) -> None:
    content = content_with_alias(tmp_path, "demandes")
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTRA_BOT_")}
    (tmp_path / "config.toml").touch()  # everything else from the environment
    env |= {
        "INTRA_BOT_CONFIG": str(tmp_path / "config.toml"),
        "INTRA_BOT_MATTERMOST__URL": "http://127.0.0.1:9",  # never reached: it stops before
        "INTRA_BOT_MATTERMOST__TOKEN": "bot-token",
        "INTRA_BOT_STORE__URL": f"sqlite:///{tmp_path}/store.db",
        "INTRA_BOT_CONTENT__DIR": str(content),
    }
    result = run("run", env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        "Cannot start: cannot register the command 'demandes': the content topic 'carriere'"
        in result.stderr
    )


def test_check_names_a_malformed_tchap_id_with_its_line(tmp_path: Path) -> None:
    for source in (ROOT / "content").glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "referents.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("      tchap:")
    path.write_text(
        text[:start] + "      tchap: marine.purson" + text[text.index("\n", start) :],
        encoding="utf-8",
    )
    line = 1 + path.read_text(encoding="utf-8")[:start].count("\n")
    result = run("check", "--content", str(tmp_path))
    assert result.returncode == 2
    assert f"referents.yaml, ligne {line}" in result.stderr
    assert "identifiant Tchap invalide" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_exits_2_in_english(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[http]\nport = 'abc'\n", encoding="utf-8")
    result = run("check", "--config", str(config))
    assert result.returncode == 2
    assert "http.port" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_closed_pipe_ends_quietly() -> None:
    """`intra-bot console … | head -1`: the reader leaves early; no traceback, SIGPIPE's status."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdin is not None and process.stdout is not None
    # Far more replies than a pipe buffer holds, so the bot must meet the closed pipe. The
    # questions fit in the input pipe's buffer: writing them all first cannot block.
    process.stdin.write(b"aide\n" * 2000)
    process.stdin.close()
    process.stdout.readline()
    process.stdout.close()  # what `head -1` does once it has its line
    assert process.stderr is not None
    stderr = process.stderr.read()
    process.wait(timeout=60)
    assert b"Traceback" not in stderr, stderr.decode()
    assert b"BrokenPipe" not in stderr
    assert process.returncode == 141


def test_ask_into_a_closed_pipe_ends_quietly() -> None:
    reader, writer = os.pipe()
    os.close(reader)  # nobody will ever read: the first write fails
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "referents"],
            stdout=writer,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    assert result.returncode == 141


def test_the_terminal_shows_what_a_markdown_reader_would() -> None:
    """The escapes that make a repeated question safe in a post are not shown as backslashes."""
    result = run("ask", "quel temps fera-t-il demain a paris")
    assert result.returncode == 0, result.stderr
    assert "quel temps fera-t-il demain a paris" in result.stdout
    assert "\\-" not in result.stdout


def without_mautrix(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`intra-bot <args>` where the `matrix` extra is not installed (mautrix cannot be imported)."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "store.sqlite3"}"\n'
        '[matrix]\nhomeserver = "http://127.0.0.1:9"\nuser_id = "@intra-bot:localhost"\n'
        f'pickle_key = "{"k" * 32}"\n'
        "[http]\nport = 0\n",
        encoding="utf-8",
    )
    code = (
        "import sys; sys.modules['mautrix'] = None; from bot.cli import main; "
        f"sys.exit(main({[*args, '--config', str(config)]!r}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def test_run_and_setup_without_the_matrix_extra_say_how_to_install_it(tmp_path: Path) -> None:
    for command, prefix in ((["run"], "Cannot start: "), (["setup", "--platform", "matrix"], "Cannot set up: ")):  # fmt: skip
        result = without_mautrix(*command, tmp_path=tmp_path)
        assert result.returncode == 2, (command, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        assert (
            prefix
            + (
                "Matrix (Tchap) support is not installed (no module 'mautrix'): "
                "pip install 'intra-bot[matrix]', or empty matrix.homeserver to serve Mattermost only"
            )
            in result.stderr
        ), result.stderr


def test_the_help_names_both_platforms() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "on Mattermost and Tchap" in text
    assert "run serve what is configured, Mattermost, Tchap or both" in text
