"""`intra-bot export` and `intra-bot forget` as an operator runs them: real subprocesses on a
store with two people's requests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.invitations.records import InvitationRecords
from bot.store import Store
from tests.cli.test_cli import run

NOW = dt.datetime.now(dt.UTC)
ALICE = "a" * 26
BOB = "b" * 26


@pytest.fixture
def config(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path}/bot.db"
    store = Store.open(url)
    records = InvitationRecords(store)
    assert records.create(ALICE, "alice", "Intra à la DINUM", NOW) is not None
    assert records.create(BOB, "bob", "Intra au ministère", NOW) is not None
    store.close()
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    return path


def test_export_prints_the_persons_request_as_json(config: Path) -> None:
    result = run("export", "alice", "--config", str(config))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["person"]["ids"] == [ALICE]
    assert [r["message"] for r in data["records"]["invitations"]] == ["Intra à la DINUM"]
    assert "Intra au ministère" not in result.stdout


def test_forget_says_what_it_did_per_table_and_spares_the_others(config: Path) -> None:
    result = run("forget", ALICE, "--config", str(config))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Forgetting {ALICE} (ids: {ALICE}; usernames: alice)"
    assert "invitations: 1 open requests deleted" in lines
    assert any(line.startswith("outbox: 0 rows deleted") for line in lines)
    assert any(line.startswith("handled_events: 0 rows: not linked") for line in lines)
    after = json.loads(run("export", ALICE, "--config", str(config)).stdout)
    assert after["records"]["invitations"] == []
    bob = json.loads(run("export", "bob", "--config", str(config)).stdout)
    assert [r["message"] for r in bob["records"]["invitations"]] == ["Intra au ministère"]


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("not a user", "is neither a Mattermost user id"),
        ("nobody", "no user id is known for the username 'nobody'"),
    ],
)
def test_a_person_that_cannot_be_found_exits_2(config: Path, user: str, message: str) -> None:
    for command in ("export", "forget"):
        result = run(command, user, "--config", str(config))
        assert result.returncode == 2
        assert message in result.stderr
        assert result.stdout == ""


def test_the_commands_exit_2_on_a_bad_retention(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[invitations]\npending_retention_days = -3\n", encoding="utf-8")
    result = run("forget", ALICE, "--config", str(path))
    assert result.returncode == 2
    assert "'invitations.pending_retention_days'" in result.stderr


def test_a_store_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/none.db"\n', encoding="utf-8")
    result = run("export", ALICE, "--config", str(path))
    assert result.returncode == 2
    assert "none.db does not exist" in result.stderr
    assert not (tmp_path / "none.db").exists()
