"""The Matrix adapter's lifecycle: stores, session, crypto, sync; start and stop.

Built from the `[matrix]` settings, the bot's store and the core's conversation;
it holds no rule and no French sentence: questions go to `Conversation.respond`
exactly as Mattermost's do.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from typing import Any

from mautrix.client import Client
from mautrix.client.encryption_manager import DecryptionDispatcher
from mautrix.crypto import OlmMachine
from mautrix.errors import MatrixConnectionError, MatrixError, MatrixRequestError
from mautrix.types import RoomAlias, RoomID, TrustState, UserID

from bot.adapters.matrix.addressing import server_of
from bot.adapters.matrix.client import BotClient
from bot.adapters.matrix.cross_signing import ensure_cross_signing
from bot.adapters.matrix.decisions import MatrixDecisions
from bot.adapters.matrix.events import ANSWER_LEASE, MatrixEventRouter
from bot.adapters.matrix.http import PacedHTTPAPI
from bot.adapters.matrix.limiter import RateLimiter
from bot.adapters.matrix.platform import MatrixPlatform
from bot.adapters.matrix.recovery_key import adopt_legacy_key, recovery_key_path
from bot.adapters.matrix.session import MatrixStartupError, establish, pickle_key
from bot.adapters.matrix.stores import MatrixStoreError, MatrixStores, crypto_store_url
from bot.adapters.matrix.sync import TIMELINE_LIMIT, SyncLoop, backoff
from bot.adapters.matrix.unfinished import UnfinishedQuestions
from bot.answers.conversation import Conversation
from bot.chat import PlatformRefused
from bot.config import MatrixSettings
from bot.greeter import Greeter
from bot.invitations.service import InvitationService
from bot.store import Store

log = logging.getLogger(__name__)

SEND_RETRIES = 5
# Syncs at once before the sync loop's pace applies: a start's first syncs, the one after
# a join. Idle, a sync is a 30 s long poll; busy, one a second.
SYNC_BURST = 3


class MatrixAdapter:
    def __init__(
        self,
        settings: MatrixSettings,
        store: Store,
        store_url: str,
        conversation: Conversation,
        *,
        invitations: InvitationService | None = None,
        send_retries: int = SEND_RETRIES,
        timeline_limit: int = TIMELINE_LIMIT,
        greeter: Greeter | None = None,
        owner: str = "matrix",
        answer_lease: dt.timedelta = ANSWER_LEASE,
    ) -> None:
        self._owner = owner  # this process, in the claims of the questions it answers
        self._answer_lease = answer_lease
        if not settings.homeserver or not settings.user_id:
            raise MatrixStartupError("matrix.homeserver and matrix.user_id are both needed")
        if not server_of(settings.user_id):
            raise MatrixStartupError(
                f"matrix.user_id '{settings.user_id}' is not a Matrix id (@name:server)"
            )
        self.settings = settings
        self._store = store
        self._store_url = store_url
        # Checked before anything connects: a store that is not a file needs it configured.
        self.key_file = recovery_key_path(settings, store_url)
        self._conversation = conversation
        self.limiter = RateLimiter(settings.requests_per_second, settings.burst)
        # The sync loop's own pace: never queued behind replies (http.py).
        self.sync_limiter = RateLimiter(settings.requests_per_second, SYNC_BURST)
        self.client: Client | None = None
        self.router: MatrixEventRouter | None = None
        self.sync: SyncLoop | None = None
        self._greeter = greeter
        self._invitations = invitations
        # Exists from start-up, so the core can be built with it; bound once connected.
        self.platform = MatrixPlatform(
            store,
            public_room=settings.public_room,
            private_room=settings.private_room,
            command=settings.command_prefix,
        )
        self._stores: MatrixStores | None = None
        self.started_at: float | None = None
        self._send_retries = send_retries
        self._timeline_limit = timeline_limit
        self.connected = asyncio.Event()
        self.start_attempts = 0
        self.start_error = ""
        self.cross_signing = ""  # what the start did about cross-signing (for /healthz)

    async def start_when_reachable(self, stop: asyncio.Event) -> bool:
        """`start()`, retried while the homeserver is unreachable; False if stopped first.

        A homeserver down at start-up is waited for, as Mattermost is; a refusal (bad
        token, bad id) is a configuration problem and raises MatrixStartupError.
        """
        attempt = 0
        while not stop.is_set():
            self.start_attempts += 1
            try:
                await self.start()
                self.start_error = ""
                return True
            except MatrixRequestError as error:
                await self.close()
                if error.http_status < 500:
                    raise MatrixStartupError(
                        f"the homeserver refused the start: HTTP {error.http_status} {error}"
                    ) from None
                self.start_error = f"HTTP {error.http_status}"  # /healthz: no raw text
                detail = f"{self.start_error}: {error}"
            except (MatrixConnectionError, OSError, TimeoutError) as error:
                await self.close()
                self.start_error = error.__class__.__name__
                detail = f"{self.start_error}: {error}"
            delay = backoff(attempt)
            attempt += 1
            log.warning("event=matrix_unreachable error=%r retry_in=%.1f", detail, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        return False

    async def start(self) -> None:
        """Open the stores, restore or make the session, load the crypto account."""
        settings = self.settings
        user_id = UserID(settings.user_id)
        key = await asyncio.to_thread(pickle_key, settings, self._store)
        url = crypto_store_url(settings.crypto_store_url, self._store_url)
        self._stores = await MatrixStores.open(url, settings.user_id, key)
        # Retries on connection errors and 502/503/504 (4, 8 … 64 s, about two minutes):
        # an answer claimed in the store must outlive a homeserver restart, or it is lost.
        # A retried send keeps its transaction id, so the homeserver never posts it twice.
        api = PacedHTTPAPI(
            settings.homeserver,
            limiter=self.limiter,
            sync_limiter=self.sync_limiter,
            default_retry_count=self._send_retries,
        )
        client = BotClient(mxid=user_id, api=api, state_store=self._stores.state)
        self.client = client
        session = await establish(client, settings, self._store)
        await self._load_crypto(client, session.device_id)
        allowed = frozenset(settings.allowed_homeservers or [server_of(settings.user_id)])
        rooms = await self._room_ids()
        self.platform.bind(client, rooms)
        self.router = MatrixEventRouter(
            client,
            self._store,
            self._conversation,
            self.platform,
            prefix=settings.command_prefix,
            allowed_servers=allowed,
            shared_rooms=frozenset(rooms.values()),
            public_room=rooms.get(settings.public_room, ""),
            greeter=self._greeter,
            owner=self._owner,
            answer_lease=self._answer_lease,
        )
        if self._invitations is not None:
            self.router.decisions = MatrixDecisions(
                client, self._store, self.platform, self._invitations
            )
        self.router.bot_names = await self._display_names(client)
        self.router.attach()
        self.sync = SyncLoop(
            client,
            self._stores.crypto,
            self.router,
            timeline_limit=self._timeline_limit,
            store=self._store,
        )
        self.started_at = time.monotonic()

    async def _load_crypto(self, client: Client, device_id: str) -> None:
        assert self._stores is not None
        crypto_store = self._stores.crypto
        known = await crypto_store.get_device_id()
        if known and known != device_id:
            raise MatrixStartupError(
                f"the crypto store belongs to device {known}, but the session is device "
                f"{device_id}: use that device's token, or point matrix.crypto_store_url at a "
                "fresh store (encrypted history of the old device is then unreadable to the bot)"
            )
        machine = OlmMachine(client, crypto_store, self._stores.state)
        # Tchap users rarely cross-sign their devices: share room keys with every device
        # of the room's members, as Element does, or they could not read the bot.
        machine.share_keys_min_trust = TrustState.UNVERIFIED
        machine.send_keys_min_trust = TrustState.UNVERIFIED
        client.crypto = machine
        # Decryption is the router's, with a wait for late room keys (see events.py).
        client.remove_dispatcher(DecryptionDispatcher)
        await machine.load()
        if not known:
            await crypto_store.put_device_id(device_id)  # type: ignore[arg-type]
        if machine.account is not None and not machine.account.shared:
            await machine.share_keys()
            log.info("event=matrix_device_keys_uploaded device_id=%s", device_id)
        await asyncio.to_thread(adopt_legacy_key, self.settings, self._store_url, self.key_file)
        try:
            self.cross_signing = await ensure_cross_signing(
                machine, self._store, self.settings, self.key_file
            )
        except MatrixRequestError as error:
            if error.http_status >= 500:
                raise  # the homeserver is down: start_when_reachable retries
            # A refusal must not keep the bot from answering: it stays unverified until fixed.
            self.cross_signing = f"failed: HTTP {error.http_status}"
            log.error("event=matrix_cross_signing_failed error=%r", str(error))

    async def _room_ids(self) -> dict[str, str]:
        """The configured rooms (id or alias, as written) -> their ids."""
        assert self.client is not None
        ids = {}
        for room in (self.settings.public_room, self.settings.private_room):
            if room.startswith("#"):
                try:
                    info = await self.client.resolve_room_alias(RoomAlias(room))
                except MatrixError as error:
                    raise MatrixStartupError(
                        f"matrix room alias {room} does not resolve: {error}"
                    ) from None
                ids[room] = str(info.room_id)
            elif room:
                ids[room] = str(RoomID(room))
        return ids

    async def _display_names(self, client: Client) -> tuple[str, ...]:
        try:
            name = await client.get_displayname(client.mxid)
        except MatrixError:
            return ()
        return (name,) if name else ()

    async def serve(self, stop: asyncio.Event) -> None:
        """Start once the homeserver answers, then sync until `stop`.

        A refusal of the configuration (bad token, a crypto store of another device) is a
        PlatformRefused: no retry can fix it.
        """
        try:
            if not await self.start_when_reachable(stop):
                return
            log.info("event=matrix_started user_id=%s", self.settings.user_id)
            self.connected.set()
            await self.run(stop)
        except (MatrixStartupError, MatrixStoreError) as error:
            raise PlatformRefused(f"Matrix: {error}") from None

    async def run(self, stop: asyncio.Event) -> None:
        assert self.sync is not None and self.client and self.router, "start() first"
        # Looked at within half a lease of its end (at most every 30 s).
        every = min(30.0, max(1.0, self._answer_lease.total_seconds() / 2))
        unfinished = UnfinishedQuestions(self.client, self._store, self.router, every=every)
        resume = asyncio.create_task(unfinished.run(stop, self.sync.first_sync))
        try:
            await self.sync.run(stop)
        finally:
            resume.cancel()
            await asyncio.gather(resume, return_exceptions=True)

    async def close(self) -> None:
        self.platform.unbind()  # calls from now on wait for the next start (or replica)
        if self.router is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.router.drain(), 3)
        if self.client is not None:
            await self.client.api.session.close()
            self.client = None
        if self._stores is not None:
            await self._stores.close()
            self._stores = None

    def health(self) -> tuple[bool, dict[str, Any]]:
        status = self.status()
        return status["ok"] is True, {"matrix": status}

    def status(self) -> dict[str, Any]:
        """The Matrix part of /healthz."""
        sync = self.sync.status if self.sync else None
        now = time.monotonic()
        return {
            "ok": bool(sync and sync.connected),
            "syncs": sync.syncs if sync else 0,
            "sync_errors": sync.errors if sync else 0,
            "timeline_gaps": sync.gaps if sync else 0,
            "last_sync_age_s": round(now - sync.last_sync_at, 1)
            if sync and sync.last_sync_at
            else None,
            "last_error": sync.last_error if sync else (self.start_error or "not started"),
            "answered": self.router.answered if self.router else 0,
            "undecryptable": self.router.undecryptable if self.router else 0,
            "cross_signing": self.cross_signing,
            "requests": self.limiter.requests,
            "requests_waiting": self.limiter.waiting,
            "syncs_requested": self.sync_limiter.requests,
            "throttled_s": round(self.limiter.waited_seconds, 1),
        }
