"""`intra-bot setup --platform`: Mattermost stays the default; Matrix says what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import _parser, main


def test_mattermost_is_the_default_platform() -> None:
    assert _parser().parse_args(["setup"]).platform == "mattermost"
    assert _parser().parse_args(["setup", "--platform", "matrix"]).platform == "matrix"


def test_an_unknown_platform_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["setup", "--platform", "slack"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_matrix_setup_without_a_matrix_section_fails_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "store.sqlite3"}"\n')
    assert main(["setup", "--platform", "matrix", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  matrix.homeserver and matrix.user_id are set" in out
    assert "fix: fill the [matrix] section" in out
