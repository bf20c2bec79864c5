from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def test_no_file_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}) == Settings()


def test_example_is_valid_and_documents_every_key() -> None:
    load_settings(EXAMPLE, environ={})
    text = EXAMPLE.read_text(encoding="utf-8")
    for section, field in Settings.model_fields.items():
        assert f"[{section}]" in text
        model = field.annotation
        assert isinstance(model, type)
        for key in model.model_fields:  # type: ignore[attr-defined]
            assert re.search(rf"^#? ?{key} =", text, re.MULTILINE), f"{section}.{key}"


def test_environment_overrides_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[mattermost]\nurl = "http://a"\n[http]\nport = 1\n', encoding="utf-8")
    settings = load_settings(
        config,
        environ={
            "INTRA_BOT_MATTERMOST__URL": "http://b",
            "INTRA_BOT_HTTP__COMMAND_TOKENS": "one, two",
            "INTRA_BOT_MATTERMOST__TOKEN": "s3cret",
        },
    )
    assert settings.mattermost.url == "http://b"
    assert settings.http.port == 1
    assert [t.get_secret_value() for t in settings.http.command_tokens] == ["one", "two"]
    assert "s3cret" not in repr(settings)


def test_bad_value_names_key_and_hides_secret(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[http]\nport = "abc"\nsigning_secret = "topsecret"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert "http.port" in str(caught.value)
    assert "topsecret" not in str(caught.value)


def test_unknown_key(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[http]\nprot = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'http\.prot'"):
        load_settings(config, environ={})


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_an_environment_mistake_names_the_variable_not_the_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[http]\nport = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={"INTRA_BOT_LOG__LEVEL": "DEBUG"})
    message = str(caught.value)
    assert "environment variable INTRA_BOT_LOG__LEVEL" in message
    assert str(config) not in message

    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={"INTRA_BOT_HTTP__PORT": "many"})
    assert "environment variable INTRA_BOT_HTTP__PORT: 'http.port'" in str(caught.value)

    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={"INTRA_BOT_HTTP__PROT": "1"})
    assert "environment variable INTRA_BOT_HTTP__PROT: unknown key 'http.prot'" in str(caught.value)


def test_a_file_mistake_names_the_file_even_with_environment_overrides(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[http]\nport = "abc"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={"INTRA_BOT_LOGGING__LEVEL": "DEBUG"})
    assert f"{config}: 'http.port'" in str(caught.value)
    assert "INTRA_BOT" not in str(caught.value)


def test_a_short_signing_secret_is_refused_without_being_echoed(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[http]\nsigning_secret = "short-but-not-32"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    message = str(caught.value)
    assert "'http.signing_secret'" in message and "too short (16 characters)" in message
    assert "at least 32" in message and "short-but-not-32" not in message
    long_enough = "x" * 32
    settings = load_settings(None, environ={"INTRA_BOT_HTTP__SIGNING_SECRET": long_enough})
    assert settings.http.signing_secret.get_secret_value() == long_enough
    assert load_settings(None, environ={}).http.signing_secret.get_secret_value() == ""
