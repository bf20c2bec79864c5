"""HMAC signatures for what the bot hands out and gets back unverified (button contexts, dialog state)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

# How long a button the bot posts can be clicked ([http] button_days): a referents' notice
# left for weeks, or a context seen in a server's logs or database, stops deciding anything.
BUTTON_LIFETIME = timedelta(days=30)


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


def expiry(now: datetime, lifetime: timedelta) -> str:
    """When a button made `now` stops working: seconds since the epoch, as text (a string
    comes back from Mattermost as it went, where a number could come back as a float)."""
    return str(int((now + lifetime).timestamp()))


def sign_button(secret: bytes, action: str, value: str, expires: str) -> str:
    # The « button » part keeps these apart from the two-part signatures of buttons posted
    # before expiry existed, and from the dialogs' (« dialog », id).
    return sign(secret, "button", action, value, expires)


def verify_button(secret: bytes, signature: object, action: str, value: str, expires: str) -> bool:
    return verify(secret, signature, "button", action, value, expires)


def expired(expires: str, now: datetime) -> bool:
    """Whether a (verified) button's expiry has passed; an unreadable one has."""
    if not (expires.isascii() and expires.isdigit() and len(expires) <= 12):
        return True
    return now.timestamp() >= int(expires)
