"""One login, then the stored access token and device id, never a login per start.

Tchap: each login creates a device, and an end-to-end encrypted bot must stay the
same device for its keys to keep working. So the first start logs in with the
password once and keeps the session in the store; every later start (and every
replica) reuses it. A configured access token with its device id wins over both.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from mautrix.client import Client
from mautrix.errors import MForbidden, MUnknownToken
from mautrix.types import UserID

from bot.config import MatrixSettings
from bot.named_values import forget
from bot.store import Store

log = logging.getLogger(__name__)

DEVICE_NAME = "intra-bot"


class MatrixStartupError(Exception):
    """The Matrix part cannot start with this configuration; the message says how to fix it."""


@dataclass(frozen=True)
class Session:
    access_token: str
    device_id: str
    origin: str  # "config", "store" or "login": for the log line, never the token


def _key(user_id: str) -> str:
    return f"matrix.session:{user_id}"


def stored_session(store: Store, user_id: str) -> Session | None:
    raw = store.get_value(_key(user_id))
    if not raw:
        return None
    data = json.loads(raw)
    return Session(str(data["access_token"]), str(data["device_id"]), "store")


def remember_session(store: Store, user_id: str, session: Session) -> None:
    payload = {"access_token": session.access_token, "device_id": session.device_id}
    store.set_value(_key(user_id), json.dumps(payload))


def pickle_key(settings: MatrixSettings, store: Store) -> str:
    """The key the crypto store encrypts its secrets with: configured, never from the store.

    Versions before this one made a key and kept it in the store, beside the crypto store
    it protects. Configured with that same key, the store's copy is deleted; a different key
    could not read the crypto store, and no key at all is refused by the configuration."""
    configured = settings.pickle_key.get_secret_value()
    name = _legacy_pickle_key(settings.user_id)
    kept = store.get_value(name)
    if kept is not None and kept != configured:
        raise MatrixStartupError(
            f"matrix.pickle_key differs from the key an earlier version kept in the store "
            f"('{name}' in kv_values), which encrypts the crypto store: set matrix.pickle_key "
            "(or INTRA_BOT_MATRIX__PICKLE_KEY) to that value, e.g. from `sqlite3 STORE "
            f"\"select value from kv_values where name='{name}'\"`, and start again; the bot "
            "then deletes the store's copy"
        )
    if kept is not None:
        forget(store, [name])
        log.warning("event=matrix_pickle_key_removed_from_store name=%s", name)
    return configured


def _legacy_pickle_key(user_id: str) -> str:
    return f"matrix.pickle_key:{user_id}"


async def establish(client: Client, settings: MatrixSettings, store: Store) -> Session:
    """Give `client` its session (configured, stored, or one login) and check it."""
    session = await _choose(client, settings, store)
    client.api.token = session.access_token
    client.device_id = session.device_id  # type: ignore[assignment]
    try:
        whoami = await client.whoami()
    except (MUnknownToken, MForbidden):
        where = (
            "matrix.access_token (INTRA_BOT_MATRIX__ACCESS_TOKEN)"
            if session.origin == "config"
            else "the session stored by an earlier login"
        )
        raise MatrixStartupError(
            f"the homeserver rejected {where} (logged out or expired). Log the bot in again: "
            "set matrix.access_token and matrix.device_id of a new session, or clear "
            f"'{_key(settings.user_id)}' from the store to log in once more with matrix.password "
            "(a new device: the crypto store must then be reset too)."
        ) from None
    if whoami.user_id != settings.user_id:
        raise MatrixStartupError(
            f"matrix.user_id is {settings.user_id} but the token belongs to {whoami.user_id}"
        )
    if whoami.device_id and whoami.device_id != session.device_id:
        raise MatrixStartupError(
            f"matrix.device_id is {session.device_id} but the token belongs to device "
            f"{whoami.device_id}: set matrix.device_id to it"
        )
    log.info(
        "event=matrix_session user_id=%s device_id=%s origin=%s",
        settings.user_id,
        session.device_id,
        session.origin,
    )
    return session


async def _choose(client: Client, settings: MatrixSettings, store: Store) -> Session:
    token = settings.access_token.get_secret_value()
    if token:
        if not settings.device_id:
            raise MatrixStartupError(
                "matrix.access_token is set but matrix.device_id is not: end-to-end encryption "
                "needs the device of that token (GET /_matrix/client/v3/account/whoami gives it)"
            )
        return Session(token, settings.device_id, "config")
    found = await asyncio.to_thread(stored_session, store, settings.user_id)
    if found is not None:
        return found
    password = settings.password.get_secret_value()
    if not password:
        raise MatrixStartupError(
            "no Matrix session: set matrix.password for the first login (the session is then "
            "stored), or matrix.access_token with matrix.device_id"
        )
    try:
        response = await client.login(
            identifier=UserID(settings.user_id),
            password=password,
            device_name=DEVICE_NAME,
            device_id=settings.device_id or None,
            store_access_token=False,
        )
    except MForbidden:
        raise MatrixStartupError(
            f"the homeserver refused the login of {settings.user_id}: check matrix.password "
            "(INTRA_BOT_MATRIX__PASSWORD)"
        ) from None
    session = Session(response.access_token, response.device_id, "login")
    await asyncio.to_thread(remember_session, store, settings.user_id, session)
    log.info("event=matrix_logged_in user_id=%s device_id=%s", settings.user_id, session.device_id)
    return session
