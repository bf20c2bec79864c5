"""One login, then the stored session: which session a start uses, and the operator's errors."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from bot.adapters.matrix.session import (
    MatrixStartupError,
    Session,
    establish,
    pickle_key,
    remember_session,
    stored_session,
)
from bot.config import MatrixSettings
from bot.named_values import with_prefix
from bot.store import Store

BOT = "@intra-bot:agent.dinum.tchap.gouv.fr"


class Whoami:
    def __init__(self, user_id: str, device_id: str) -> None:
        self.user_id = user_id
        self.device_id = device_id


class LoginResponse:
    access_token = "syt_new"
    device_id = "NEWDEVICE"


class FakeApi:
    token = ""


class FakeClient:
    """Just what `establish` calls; counts logins."""

    def __init__(self) -> None:
        self.api = FakeApi()
        self.device_id = ""
        self.logins = 0

    async def login(self, **_: Any) -> LoginResponse:
        self.logins += 1
        return LoginResponse()

    async def whoami(self) -> Whoami:
        return Whoami(BOT, self.device_id)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")


def settings(**values: Any) -> MatrixSettings:
    values = {"pickle_key": "k" * 32, **values}
    return MatrixSettings.model_validate({"homeserver": "http://hs", "user_id": BOT, **values})


async def test_the_first_start_logs_in_once_and_later_starts_reuse_the_session(
    store: Store,
) -> None:
    first = FakeClient()
    session = await establish(first, settings(password="pw"), store)  # type: ignore[arg-type]
    assert (session.origin, first.logins) == ("login", 1)
    assert first.api.token == "syt_new" and first.device_id == "NEWDEVICE"
    again = FakeClient()
    session = await establish(again, settings(password="pw"), store)  # type: ignore[arg-type]
    assert (session.origin, session.device_id, again.logins) == ("store", "NEWDEVICE", 0)


async def test_a_configured_token_wins_and_needs_its_device(store: Store) -> None:
    remember_session(store, BOT, Session("syt_stored", "STORED", "login"))
    client = FakeClient()
    configured = settings(access_token="syt_conf", device_id="CONF")
    session = await establish(client, configured, store)  # type: ignore[arg-type]
    assert (session.origin, client.api.token, client.logins) == ("config", "syt_conf", 0)
    with pytest.raises(MatrixStartupError, match="device_id"):
        await establish(FakeClient(), settings(access_token="syt_conf"), store)  # type: ignore[arg-type]


async def test_no_way_to_log_in_is_said_plainly(store: Store) -> None:
    with pytest.raises(MatrixStartupError, match=r"matrix\.password"):
        await establish(FakeClient(), settings(), store)  # type: ignore[arg-type]


async def test_a_token_of_another_account_is_refused(store: Store) -> None:
    class Other(FakeClient):
        async def whoami(self) -> Whoami:
            return Whoami("@someone:else", self.device_id)

    with pytest.raises(MatrixStartupError, match="belongs to @someone:else"):
        await establish(Other(), settings(password="pw"), store)  # type: ignore[arg-type]


def test_the_session_round_trips_through_the_store_and_secrets_stay_out_of_reprs(
    store: Store,
) -> None:
    remember_session(store, BOT, Session("syt_secret", "DEV", "login"))
    assert stored_session(store, BOT) == Session("syt_secret", "DEV", "store")
    assert "hunter2" not in repr(settings(password=SecretStr("hunter2")))


def test_the_pickle_key_comes_from_the_configuration_and_never_enters_the_store(
    store: Store,
) -> None:
    key = "c" * 40
    assert pickle_key(settings(pickle_key=key), store) == key
    assert [v.name for v in with_prefix(store, "matrix.pickle_key")] == []


def test_the_key_an_earlier_version_kept_in_the_store_is_removed_once_configured(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    legacy = "L" * 43
    store.set_value(f"matrix.pickle_key:{BOT}", legacy)
    with pytest.raises(MatrixStartupError, match="differs from the key an earlier version kept"):
        pickle_key(settings(pickle_key="c" * 40), store)
    assert store.get_value(f"matrix.pickle_key:{BOT}") == legacy  # kept until configured
    with caplog.at_level(logging.WARNING):
        assert pickle_key(settings(pickle_key=legacy), store) == legacy
    assert store.get_value(f"matrix.pickle_key:{BOT}") is None
    assert "event=matrix_pickle_key_removed_from_store" in caplog.text
    assert legacy not in caplog.text


@pytest.mark.parametrize(
    ("value", "problem"),
    [("", "required when matrix.homeserver is set"), ("short", "too short (5 characters)")],
)
def test_a_missing_or_short_pickle_key_is_refused_by_the_configuration(
    value: str, problem: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        MatrixSettings.model_validate(
            {"homeserver": "http://hs", "user_id": BOT, "pickle_key": value}
        )
    # Matrix off: nothing to encrypt, nothing required.
    assert MatrixSettings.model_validate({}).pickle_key.get_secret_value() == ""
