"""Claimed means answered, on Matrix: a question claimed by a process that died before its
reply is fetched again by its id once the lease ran out and answered once; a reply that did
get through is found by its key in the room and not sent again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from mautrix.errors import MNotFound

from bot.adapters.matrix.events import MatrixEventRouter
from bot.adapters.matrix.history import KEY_FIELD
from bot.adapters.matrix.platform import MatrixPlatform
from bot.adapters.matrix.unfinished import UnfinishedQuestions
from bot.answers.conversation import Conversation
from bot.clock import utc_now
from bot.content.loader import DEFAULT_CONTENT_DIR, ContentSource
from bot.store import Store
from tests.contract.test_matrix_router import BOT, PUBLIC, ROOM, FakeClient, message

LEASE = dt.timedelta(minutes=3)
EXPIRED = dt.timedelta(minutes=10)  # how long ago a dead process claimed the question


class RoomClient(FakeClient):
    """The router's fake client, with the room's events to fetch back (GET /event, /messages)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: dict[str, Any] = {}
        self.fail_sends: Exception | None = None

    async def send_message_event(
        self, room_id: str, _type: object, content: dict[str, Any], txn_id: str | None = None
    ) -> str:
        if self.fail_sends is not None:
            raise self.fail_sends
        return await super().send_message_event(room_id, _type, content, txn_id)

    async def get_event(self, room_id: str, event_id: str) -> Any:
        if event_id not in self.events:
            raise MNotFound(404, "Event not found")
        return self.events[event_id]

    async def get_messages(self, room_id: str, *_: Any, **__: Any) -> Any:
        mine = [
            SimpleNamespace(
                event_id=f"$reply{n}",
                timestamp=int(utc_now().timestamp() * 1000),
                content=SimpleNamespace(serialize=lambda content=content: content),
            )
            for n, (room, content) in enumerate(self.sent, 1)
            if room == room_id
        ]
        return SimpleNamespace(events=list(reversed(mine)), end=None)


def parts(tmp_path: Path) -> tuple[UnfinishedQuestions, MatrixEventRouter, RoomClient, Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    client = RoomClient()
    platform = MatrixPlatform(store)
    platform.bind(client)  # type: ignore[arg-type]
    router = MatrixEventRouter(
        client,  # type: ignore[arg-type]
        store,
        Conversation(ContentSource(DEFAULT_CONTENT_DIR)),
        platform,
        prefix="!intra",
        allowed_servers=frozenset({"agent.dinum.tchap.gouv.fr"}),
        owner="this-process",
        answer_lease=LEASE,
    )
    return UnfinishedQuestions(client, store, router), router, client, store  # type: ignore[arg-type]


def left_by_a_dead_process(store: Store, client: RoomClient, event_id: str = "$q1") -> None:
    client.events[event_id] = message("référents", event_id)
    assert store.claim_answer(f"matrix:{event_id}", "dead", utc_now() - EXPIRED, LEASE, ROOM)


async def test_a_question_whose_holder_died_is_answered_after_the_lease_once(
    tmp_path: Path,
) -> None:
    sweep, _, client, store = parts(tmp_path)
    left_by_a_dead_process(store, client)
    assert await sweep.once() == 1
    assert len(client.sent) == 1 and "référent" in client.sent[0][1]["body"].lower()
    assert await sweep.once() == 0
    assert len(client.sent) == 1


async def test_a_reply_the_dead_holder_sent_is_found_by_its_key_and_not_sent_again(
    tmp_path: Path,
) -> None:
    sweep, router, client, store = parts(tmp_path)
    left_by_a_dead_process(store, client)
    client.sent.append((ROOM, {"msgtype": "m.notice", "body": "…", KEY_FIELD: f"reply:$q1:{ROOM}"}))
    assert await sweep.once() == 1
    assert len(client.sent) == 1
    assert await sweep.once() == 0
    await router.on_message(message("référents", "$q1"))  # the sync bringing it again
    assert len(client.sent) == 1


async def test_a_reply_cut_off_by_a_crash_is_not_lost_and_not_doubled(tmp_path: Path) -> None:
    sweep, router, client, store = parts(tmp_path)
    question = message("référents", "$q1")
    client.events["$q1"] = question
    client.fail_sends = RuntimeError("the process dies here")
    with pytest.raises(RuntimeError):
        await router.on_message(question)
    client.fail_sends = None
    await router.on_message(question)  # a replayed sync, while the claim is held
    assert client.sent == [] and await sweep.once() == 0
    later = utc_now() + LEASE + dt.timedelta(seconds=1)
    [left] = store.unfinished_answers("matrix:", later, utc_now() - dt.timedelta(hours=1))
    assert (left.key, left.place) == ("matrix:$q1", ROOM)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bot.adapters.matrix.events.utc_now", lambda: later)
        late = UnfinishedQuestions(client, store, router, clock=lambda: later)  # type: ignore[arg-type]
        assert await late.once() == 1
    assert len(client.sent) == 1


async def test_a_question_redacted_or_gone_is_given_up(tmp_path: Path) -> None:
    sweep, _, client, store = parts(tmp_path)
    assert store.claim_answer("matrix:$gone", "dead", utc_now() - EXPIRED, LEASE, ROOM)
    # Chatter in a shared room, not for the bot (a question edited away, say).
    client.events["$chatter"] = message("bonjour tout le monde", "$chatter", PUBLIC)
    assert store.claim_answer("matrix:$chatter", "dead", utc_now() - EXPIRED, LEASE, PUBLIC)
    assert await sweep.once() == 0
    assert store.unfinished_answers("matrix:", utc_now(), utc_now() - EXPIRED * 2) == []
    assert client.sent == []


async def test_a_question_answered_live_is_done(tmp_path: Path) -> None:
    _, router, client, store = parts(tmp_path)
    await router.on_message(message("référents", "$q1"))
    assert len(client.sent) == 1
    much_later = utc_now() + dt.timedelta(hours=1)
    assert store.unfinished_answers("matrix:", much_later, utc_now() - EXPIRED) == []
    assert BOT  # the fake's own id, replies are sent as it


async def test_a_reply_the_homeserver_refused_after_its_retries_is_tried_again(
    tmp_path: Path,
) -> None:
    _, router, client, store = parts(tmp_path)
    question = message("référents", "$q1")
    client.events["$q1"] = question
    client.fail_sends = OSError("the homeserver is away")  # past the client's own retries
    await router.on_message(question)
    client.fail_sends = None
    assert client.sent == []
    later = utc_now() + LEASE + dt.timedelta(seconds=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bot.adapters.matrix.events.utc_now", lambda: later)
        late = UnfinishedQuestions(client, store, router, clock=lambda: later)  # type: ignore[arg-type]
        assert await late.once() == 1
    assert len(client.sent) == 1
    assert store.unfinished_answers("matrix:", later + LEASE * 2, utc_now()) == []
