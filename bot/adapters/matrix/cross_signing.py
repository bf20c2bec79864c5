"""Cross-signing, bootstrapped once, so Tchap users see a verified bot.

Element and Tchap warn about (and may come to ignore) devices their owner has not
cross-signed. At its first start the bot creates its master, self-signing and
user-signing keys, stores them in its secret storage (SSSS) on the homeserver,
signs its own device, and writes the recovery key (the only way back to those
keys) to a file for the operator, never to a log. Every later start finds the
keys on the homeserver and does nothing, or, for a new device of the bot (a reset
crypto store), signs it with the kept recovery key. Replicas sharing a store
bootstrap once between them: a claim in the store.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mautrix.crypto import OlmMachine
from mautrix.crypto.cross_signing_key import CrossSigningSeeds
from mautrix.errors import MatrixRequestError
from mautrix.types import KeyID

from bot.adapters.matrix.recovery_key import write_secret
from bot.adapters.matrix.session import MatrixStartupError
from bot.config import MatrixSettings
from bot.store import Store

log = logging.getLogger(__name__)

# Long enough for a bootstrap at one request per second (about ten requests).
CLAIM_LEASE = timedelta(minutes=5)


async def ensure_cross_signing(
    machine: OlmMachine, store: Store, settings: MatrixSettings, key_file: Path
) -> str:
    """Bootstrap cross-signing if the bot has none; sign this device. Returns what it did."""
    public = await machine.get_own_cross_signing_public_keys()
    if public is None:
        return await _bootstrap_once(machine, store, settings, key_file)
    # Seen signed by this self-signing key at an earlier start: no query this time (each
    # request of a start is a second the first answer waits, at Tchap's pace).
    seen = _signed_key(machine)
    if await asyncio.to_thread(store.get_value, seen) == public.self_signing_key:
        log.info("event=matrix_cross_signing state=present device_signed=remembered")
        return "present"
    if await own_device_signed(machine, public.self_signing_key):
        await asyncio.to_thread(store.set_value, seen, public.self_signing_key)
        log.info("event=matrix_cross_signing state=present device_signed=true")
        return "present"
    if key_file.is_file():
        recovery_key = (await asyncio.to_thread(key_file.read_text, encoding="utf-8")).strip()
        try:
            await machine.verify_with_recovery_key(recovery_key)
        except ValueError as error:  # not a recovery key, or not this account's
            log.error(
                "event=matrix_cross_signing state=device_unsigned key_file=%s error=%r "
                "hint='that file does not hold this account's recovery key'",
                key_file,
                str(error),
            )
            return "device_unsigned"
        log.info("event=matrix_cross_signing state=device_signed key_file=%s", key_file)
        return "device_signed"
    log.warning(
        "event=matrix_cross_signing state=device_unsigned key_file=%s hint='the bot has "
        "cross-signing keys but this device is not signed and the recovery key file is "
        "missing: put the recovery key kept at the first start in that file and restart'",
        key_file,
    )
    return "device_unsigned"


def _signed_key(machine: OlmMachine) -> str:
    """The store's name for « this device was seen signed by this self-signing key »."""
    return f"matrix.device_signed:{machine.client.mxid}:{machine.client.device_id}"


async def own_device_signed(machine: OlmMachine, self_signing_key: str) -> bool:
    """Whether the homeserver has this device signed by the bot's self-signing key."""
    client = machine.client
    keys = await client.query_keys([client.mxid])
    device = keys.device_keys.get(client.mxid, {}).get(client.device_id)
    if device is None:
        return False
    signatures = device.signatures.get(client.mxid, {})
    return KeyID.ed25519(self_signing_key) in signatures  # type: ignore[arg-type]


async def _bootstrap_once(
    machine: OlmMachine, store: Store, settings: MatrixSettings, key_file: Path
) -> str:
    owner = f"{socket.gethostname()}:{os.getpid()}"
    name = f"matrix.cross_signing_claim:{settings.user_id}"
    now = datetime.now(UTC)
    if not await asyncio.to_thread(store.claim_value, name, owner, now, CLAIM_LEASE):
        # Another replica is bootstrapping the same account (and device): its signature
        # covers this process too.
        log.info("event=matrix_cross_signing state=claimed_elsewhere")
        return "claimed_elsewhere"
    await bootstrap(machine, settings.password.get_secret_value(), key_file)
    log.warning(
        "event=matrix_cross_signing state=bootstrapped key_file=%s hint='keep the recovery "
        "key in that file as a secret (move it to your secrets manager)'",
        key_file,
    )
    return "bootstrapped"


async def bootstrap(machine: OlmMachine, password: str, key_file: Path) -> str:
    """mautrix's `generate_recovery_key`, with the key saved before it is needed and UIA.

    The recovery key is written as soon as it exists, before the keys it unlocks are
    published: a crash in between leaves a usable file, never published keys without it.
    """
    seeds = CrossSigningSeeds.generate()
    ssss_key = await machine.ssss.generate_and_upload_key()
    await asyncio.to_thread(write_secret, key_file, ssss_key.recovery_key)
    # Private helpers of mautrix 0.21 (pinned below 0.22): the public one cannot pass UIA.
    await machine._upload_cross_signing_keys_to_ssss(ssss_key, seeds)
    await publish_keys(machine, seeds, password)
    await machine.ssss.set_default_key_id(ssss_key.id)
    await machine.sign_own_device(machine.own_identity)
    return str(ssss_key.recovery_key)


async def publish_keys(machine: OlmMachine, seeds: CrossSigningSeeds, password: str) -> None:
    """Upload the public cross-signing keys, answering user-interactive auth with the password.

    Synapse lets an account publish its first cross-signing keys without UIA; replacing
    them (or a homeserver that always asks) needs the account's password.
    """
    try:
        await machine._publish_cross_signing_keys(seeds.to_keys())
        return
    except MatrixRequestError as error:
        session = _uia_session(error)
        if session is None:
            raise
    if not password:
        raise MatrixStartupError(
            "the homeserver asks for the bot's password to publish its cross-signing keys: "
            "set matrix.password (INTRA_BOT_MATRIX__PASSWORD) for this start"
        )
    auth: dict[str, Any] = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": str(machine.client.mxid)},
        "password": password,
        "session": session,
    }
    try:
        await machine._publish_cross_signing_keys(seeds.to_keys(), auth=auth)
    except MatrixRequestError as error:
        if error.http_status in (401, 403):
            raise MatrixStartupError(
                "the homeserver refused matrix.password when publishing the cross-signing "
                f"keys (HTTP {error.http_status}): check it"
            ) from None
        raise


def _uia_session(error: MatrixRequestError) -> str | None:
    """The UIA session of a 401 that offers the password stage, else None."""
    if error.http_status != 401:
        return None
    try:
        body = json.loads(getattr(error, "text", "") or "{}")
    except ValueError:
        return None
    flows = body.get("flows") or []
    if not any("m.login.password" in (flow.get("stages") or []) for flow in flows):
        return None
    return str(body.get("session") or "") or None
