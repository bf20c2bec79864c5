"""A test user on matrix-nio: an E2EE client independent of the bot's mautrix.

It records every timeline event its syncs bring (decrypted when it can), so a test
can wait for a condition ("the bot's answer to my question is here") with a
deadline, never a fixed sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinResponse,
    LoginResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
)

WAIT_TIMEOUT_S = 60.0
TIMELINE_FILTER = {"room": {"timeline": {"limit": 500}}}


@dataclass(frozen=True)
class Seen:
    """One timeline event as this user's client sees it."""

    room_id: str
    event_id: str
    sender: str
    type: str
    content: dict[str, Any]
    encrypted: bool
    undecryptable: bool
    seen_at: float  # time.perf_counter() when the sync that brought it returned

    @property
    def is_message(self) -> bool:
        """A message, readable or not (an undecryptable one stays `m.room.encrypted`)."""
        return self.type in ("m.room.message", "m.room.encrypted")

    @property
    def reply_to(self) -> str:
        relation = self.content.get("m.relates_to") or {}
        return str((relation.get("m.in_reply_to") or {}).get("event_id") or "")

    @property
    def thread_root(self) -> str:
        relation = self.content.get("m.relates_to") or {}
        return str(relation.get("event_id") or "") if relation.get("rel_type") == "m.thread" else ""


class NioUser:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.seen: list[Seen] = []

    @classmethod
    async def login(cls, homeserver: str, user_id: str, password: str, home: Path) -> NioUser:
        home.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
        client = AsyncClient(homeserver, user_id, store_path=str(home), config=config)
        response = await client.login(password, device_name="e2e test client")
        assert isinstance(response, LoginResponse), f"login of {user_id} failed: {response}"
        user = cls(client)
        await user.sync(timeout_ms=0)
        return user

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def sync(self, timeout_ms: int = 1000) -> None:
        # A long timeline: a burst of messages in one sync is seen whole, not cut (limited).
        response = await self.client.sync(timeout=timeout_ms, sync_filter=TIMELINE_FILTER)
        now = time.perf_counter()
        assert isinstance(response, SyncResponse), f"sync failed: {response}"
        for room_id, info in response.rooms.join.items():
            for event in info.timeline.events:
                self.seen.append(_seen(room_id, event, now))
        await self._keys()

    async def _keys(self) -> None:
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.should_claim_keys:
            await self.client.keys_claim(self.client.get_users_for_key_claiming())

    def mark(self) -> int:
        return len(self.seen)

    async def wait_for(
        self,
        what: str,
        predicate: Callable[[Seen], bool],
        *,
        after: int = 0,
        timeout: float = WAIT_TIMEOUT_S,
    ) -> Seen:
        """The first event (seen after `after`) matching `predicate`, syncing until it comes."""
        deadline = time.monotonic() + timeout
        checked = after
        while True:
            for event in self.seen[checked:]:
                if predicate(event):
                    return event
            checked = len(self.seen)
            if time.monotonic() > deadline:
                recent = "\n".join(
                    f"  {e.sender} {e.type} {e.content}" for e in self.seen[after:][-10:]
                )
                raise AssertionError(
                    f"{self.user_id}: no {what} within {timeout} s; seen:\n{recent}"
                )
            await self.sync(timeout_ms=1000)

    async def reply_to(
        self, question_id: str, *, after: int = 0, timeout: float = WAIT_TIMEOUT_S
    ) -> Seen:
        return await self.wait_for(
            f"reply to {question_id}",
            lambda e: (
                e.reply_to == question_id
                or (e.thread_root == question_id and e.sender != self.user_id)
            ),
            after=after,
            timeout=timeout,
        )

    async def send_text(self, room_id: str, body: str, **extra: Any) -> str:
        content = {"msgtype": "m.text", "body": body, **extra}
        response = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert isinstance(response, RoomSendResponse), f"send failed: {response}"
        return str(response.event_id)

    async def create_dm(self, other: str, *, encrypted: bool = True) -> str:
        initial_state = (
            [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ]
            if encrypted
            else []
        )
        response = await self.client.room_create(
            is_direct=True,
            preset=RoomPreset.trusted_private_chat,
            invite=[other],
            initial_state=initial_state,
        )
        assert isinstance(response, RoomCreateResponse), f"createRoom failed: {response}"
        return str(response.room_id)

    async def wait_joined(
        self, room_id: str, user_id: str, *, timeout: float = WAIT_TIMEOUT_S
    ) -> None:
        deadline = time.monotonic() + timeout
        while True:
            room = self.client.rooms.get(room_id)
            if room is not None and user_id in room.users:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{user_id} did not join {room_id} within {timeout} s")
            await self.sync(timeout_ms=1000)

    async def accept_invite_from(self, inviter: str, *, timeout: float = WAIT_TIMEOUT_S) -> str:
        """Join the first room `inviter` invites this user to; its room id."""
        deadline = time.monotonic() + timeout
        while True:
            for room_id, room in list(self.client.invited_rooms.items()):
                if room.inviter == inviter:
                    response = await self.client.join(room_id)
                    assert isinstance(response, JoinResponse), f"join failed: {response}"
                    return room_id
            if time.monotonic() > deadline:
                raise AssertionError(f"no invitation from {inviter} within {timeout} s")
            await self.sync(timeout_ms=1000)

    async def close(self) -> None:
        try:
            await self.client.logout()  # deletes this device: no key copies for dead devices
        finally:
            await self.client.close()


def _seen(room_id: str, event: Any, now: float) -> Seen:
    source = dict(getattr(event, "source", {}) or {})
    undecryptable = isinstance(event, MegolmEvent)
    return Seen(
        room_id=room_id,
        event_id=str(getattr(event, "event_id", "") or source.get("event_id", "")),
        sender=str(getattr(event, "sender", "") or source.get("sender", "")),
        type=str(source.get("type", "")),
        content=dict(source.get("content") or {}),
        encrypted=bool(getattr(event, "decrypted", False)) or undecryptable,
        undecryptable=undecryptable,
        seen_at=now,
    )
