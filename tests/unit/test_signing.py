"""The button-signing key: a configured secret wins, else one derived from the bot token.

A constant key would let anyone who knows the code forge an « Accepter » click on a
deployment without `signing_secret`; these tests fail if the key stops depending on
what it must depend on, or starts depending on what it must not (the process).
"""

from __future__ import annotations

import subprocess
import sys

from bot.adapters.mattermost.signing import derive_secret, sign, verify


def test_a_configured_secret_wins_whatever_the_token() -> None:
    assert derive_secret("configured", "token-a") == derive_secret("configured", "token-b")
    assert derive_secret("configured", "token-a") != derive_secret("", "token-a")
    assert derive_secret("configured", "token-a") != derive_secret("other", "token-a")


def test_without_a_configured_secret_the_key_differs_per_token() -> None:
    keys = {derive_secret("", token) for token in ("token-a", "token-b", "token-c", "")}
    assert len(keys) == 4
    # Not the token itself: a leaked signature must not be checkable against a guessed token.
    assert derive_secret("", "token-a") != b"token-a"


def test_the_derived_key_is_the_same_in_another_process() -> None:
    """Replicas sharing a token, and the same bot after a restart, share the key."""
    code = "import sys; from bot.adapters.mattermost.signing import derive_secret; print(derive_secret('', sys.argv[1]).hex())"
    other = subprocess.run(
        [sys.executable, "-c", code, "token-a"], capture_output=True, text=True, check=True
    )
    assert bytes.fromhex(other.stdout.strip()) == derive_secret("", "token-a")


def test_signatures_verify_only_with_the_same_key_and_parts() -> None:
    key, other_key = derive_secret("", "token-a"), derive_secret("", "token-b")
    signature = sign(key, "accept", "inv1")
    assert verify(key, signature, "accept", "inv1")
    assert not verify(other_key, signature, "accept", "inv1")
    assert not verify(key, signature, "decline", "inv1")
    assert not verify(key, signature, "accept", "inv2")
    # The separator keeps (« ab », « c ») and (« a », « bc ») apart.
    assert not verify(key, sign(key, "ab", "c"), "a", "bc")
    assert not verify(key, signature.upper(), "accept", "inv1")
    assert not verify(key, None, "accept", "inv1")
    assert not verify(key, "", "accept", "inv1")
