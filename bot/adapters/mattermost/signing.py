"""HMAC signatures for what the bot hands out and gets back unverified (button contexts, dialog state)."""

from __future__ import annotations

import hashlib
import hmac


def derive_secret(configured: str, fallback_material: str) -> bytes:
    """The signing key: the configured secret, else one derived from the bot token.

    Derived, it is stable across restarts and replicas that share the token, so a button
    posted before a restart still works after it.
    """
    if configured:
        return configured.encode()
    return hashlib.sha256(b"intra-bot/buttons/v1\x00" + fallback_material.encode()).digest()


def sign(secret: bytes, *parts: str) -> str:
    message = "\x1f".join(parts).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify(secret: bytes, signature: object, *parts: str) -> bool:
    # compare_digest raises TypeError on a non-ASCII str: such a signature is simply wrong.
    return (
        isinstance(signature, str)
        and signature.isascii()
        and hmac.compare_digest(sign(secret, *parts), signature)
    )
