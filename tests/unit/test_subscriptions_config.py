"""[subscriptions] in the configuration: a bad duration or hour names its key and the fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def test_the_club_notice_timing_and_quiet_hours_come_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[subscriptions]\nclub_before = "2j"\nclub_at = "18:30"\nquiet_start = "21:00"\n',
        encoding="utf-8",
    )
    config = load_settings(path, environ={}).subscriptions
    assert (config.club_before, config.club_at) == ("2j", "18:30")
    assert config.quiet_start == dt.time(21, 0)


@pytest.mark.parametrize(
    ("key", "value", "advice"),
    [("club_before", "demain", "not a duration"), ("club_at", "5 pm", "not an hour")],
)
def test_a_bad_value_names_its_key_and_how_to_write_it(
    tmp_path: Path, key: str, value: str, advice: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[subscriptions]\n{key} = "{value}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert f"subscriptions.{key}" in str(caught.value) and advice in str(caught.value)
