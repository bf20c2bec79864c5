"""Referents by immutable identity: a username is pinned to its user id, and only the pinned
id decides, receives the notices and the recalls. The attacks of the security review: a
renamed referent's username taken by someone else, a referent listed before her account
exists, an account deactivated; and what setup, the hourly look and /healthz do about them."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import pytest

from bot.chat import Message, Platforms, PlatformUnavailable, User
from bot.content.loader import ContentSource
from bot.invitations.effects import NOTICE
from bot.invitations.referents import CHANGED, MISSING, UNPINNED
from bot.invitations.service import InvitationService, InvitationSettings
from bot.invitations.texts import ACCEPT, REFERENTS_ONLY
from bot.outbox.store import Effect
from bot.store import Store
from tests.fakes import CAMILLE, MAGALI, MARINE, FakeChatPlatform, FakeClock

ATTACKER = User("attacker999", "marine.purson")
TCHAP = "@marine.purson-beta.gouv.fr:agent.dinum.tchap.gouv.fr"


class Directory(FakeChatPlatform):
    """A platform whose usernames resolve to what the test says (None: not found), and that
    can be made unreachable."""

    def __init__(self, name: str = "mattermost") -> None:
        super().__init__(name=name)
        self.directory: dict[str, str | None] = {
            "marine.purson": MARINE.id,
            "magali.marcel": MAGALI.id,
        }
        self.down = False
        self.lookups = 0

    async def user_ids(self, usernames: list[str]) -> dict[str, str]:
        self.lookups += 1
        if self.down:
            raise PlatformUnavailable("not connected")
        if self.name == "matrix":
            return {name: name for name in usernames}
        found = {name: self.directory.get(name) for name in usernames}
        return {name: user_id for name, user_id in found.items() if user_id}


def service_on(tmp_path: Path, content: Path, *platforms: FakeChatPlatform) -> InvitationService:
    return InvitationService(
        ContentSource(content),
        Store.open(f"sqlite:///{tmp_path}/s.db"),
        Platforms(*platforms),
        InvitationSettings(),
        FakeClock(),
    )


def referent(service: InvitationService, user: User, platform: str = "mattermost") -> bool:
    return asyncio.run(service.is_referent(user, platform))


def request(service: InvitationService, user: User = CAMILLE) -> str:
    asyncio.run(service.request(Message("rejoindre", user, "dm"), ""))
    invitation = service.records.open_for(user.id)
    assert invitation is not None
    return invitation.id


@pytest.fixture
def directory() -> Directory:
    return Directory()


@pytest.fixture
def service(tmp_path: Path, content_copy: Path, directory: Directory) -> InvitationService:
    return service_on(tmp_path, content_copy, directory)


def test_the_first_look_pins_each_username_to_its_user_id(service, directory) -> None:  # type: ignore[no-untyped-def]
    assert asyncio.run(service.referent_ids()) == {
        "marine.purson": MARINE.id,
        "magali.marcel": MAGALI.id,
    }
    assert referent(service, MARINE)
    assert directory.lookups == 1  # once per process, not once per question
    assert referent(service, MAGALI)
    assert directory.lookups == 1


def test_a_username_taken_by_someone_else_gives_them_nothing(
    tmp_path: Path, content_copy: Path, directory: Directory, caplog: pytest.LogCaptureFixture
) -> None:
    first = service_on(tmp_path, content_copy, directory)
    assert referent(first, MARINE)  # pinned
    # Marine renames; an attacker takes « marine.purson »; the bot restarts.
    directory.directory["marine.purson"] = ATTACKER.id
    restarted = service_on(tmp_path, content_copy, directory)
    with caplog.at_level(logging.ERROR, logger="bot.invitations.referents"):
        assert not referent(restarted, ATTACKER)
    assert "event=referent_held platform=mattermost account=marine.purson" in caplog.text
    # Her rights are held too until setup confirms who she is now.
    assert not referent(restarted, MARINE)
    assert referent(restarted, MAGALI)
    assert restarted.referents.problems() == {"mattermost": {"marine.purson": CHANGED}}
    # The attacker's decision is refused and changes nothing.
    invitation_id = request(restarted)
    decision = asyncio.run(restarted.decide(invitation_id, ACCEPT, ATTACKER))
    assert not decision.applied and decision.reply.text == REFERENTS_ONLY
    assert directory.adds == 0
    # The requester's notice went to Magali alone, never to the attacker.
    assert [user_id for user_id, _ in directory.sent] == [MAGALI.id]


def test_the_hourly_look_holds_a_referent_whose_username_changed_hands(service, directory) -> None:  # type: ignore[no-untyped-def]
    assert referent(service, MARINE)
    directory.directory["marine.purson"] = ATTACKER.id
    asyncio.run(service.check_referents())
    assert not referent(service, ATTACKER)
    assert not referent(service, MARINE)
    # The username given back: the pin matches again, and she decides again.
    directory.directory["marine.purson"] = MARINE.id
    asyncio.run(service.check_referents())
    assert referent(service, MARINE)
    assert service.referents.problems() == {}


def test_a_referent_listed_before_her_account_exists_waits_for_setup(service, directory) -> None:  # type: ignore[no-untyped-def]
    directory.directory["marine.purson"] = None
    assert referent(service, MAGALI)  # Magali pinned at the first look
    assert service.referents.problems() == {"mattermost": {"marine.purson": MISSING}}
    # Someone creates « marine.purson » first: not pinned on sight, since pins exist.
    directory.directory["marine.purson"] = ATTACKER.id
    asyncio.run(service.check_referents())
    assert not referent(service, ATTACKER)
    assert service.referents.problems() == {"mattermost": {"marine.purson": UNPINNED}}
    # Setup is the operator's confirmation: it pins what resolves now.
    directory.directory["marine.purson"] = MARINE.id
    asyncio.run(service.verify_referents("mattermost", repin=True))
    assert referent(service, MARINE)
    assert service.referents.problems() == {}


def test_setup_repins_a_changed_account_and_forgets_those_no_longer_listed(
    tmp_path: Path, content_copy: Path, directory: Directory
) -> None:
    service = service_on(tmp_path, content_copy, directory)
    assert referent(service, MARINE)
    service.referents._pin("mattermost", "someone.gone", "u-gone", None, FakeClock()())
    directory.directory["marine.purson"] = "u-marine-new-account"
    result = asyncio.run(service.verify_referents("mattermost", repin=True))
    assert result.pinned == {"marine.purson": "u-marine-new-account"}
    assert referent(service, User("u-marine-new-account", "marine.purson"))
    assert not referent(service, MARINE)
    assert "someone.gone" not in service.referents._read_pins("mattermost")


def test_an_unreachable_platform_leaves_the_pins_trusted(
    tmp_path: Path, content_copy: Path, directory: Directory
) -> None:
    assert referent(service_on(tmp_path, content_copy, directory), MARINE)
    directory.down = True
    restarted = service_on(tmp_path, content_copy, directory)
    assert referent(restarted, MARINE)  # pinned ids cannot change hands
    assert not referent(restarted, ATTACKER)
    # Nothing pinned and nothing reachable: nobody is trusted yet.
    (tmp_path / "other").mkdir()
    assert not referent(service_on(tmp_path / "other", content_copy, directory), MARINE)


def test_matrix_ids_are_their_own_pins_even_when_added_later(
    tmp_path: Path, content_copy: Path
) -> None:
    matrix = Directory("matrix")
    service = service_on(tmp_path, content_copy, Directory(), matrix)
    assert referent(service, MARINE)  # pins exist on Mattermost; Matrix has none yet
    path = content_copy / "referents.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "tchap:  # réglage", f'tchap: "{TCHAP}"  # réglage', 1
        ),
        encoding="utf-8",
    )
    assert service.content.reload() is None
    assert referent(service, User(TCHAP, TCHAP), "matrix")
    assert not referent(service, User("@marine.purson:evil.example", TCHAP), "matrix")


def test_a_notice_queued_for_a_referent_no_longer_trusted_is_not_sent(service, directory) -> None:  # type: ignore[no-untyped-def]
    service.outbox.deliver = _never  # type: ignore[method-assign]  # queued, not sent yet
    invitation_id = request(service)
    assert directory.sent == []
    directory.directory["marine.purson"] = ATTACKER.id
    asyncio.run(service.check_referents())
    del service.outbox.deliver
    asyncio.run(service.outbox.deliver(service.outbox.store.due(FakeClock()() + dt.timedelta(1))))
    assert [user_id for user_id, _ in directory.sent] == [MAGALI.id]
    states = service.outbox.store.states(f"invitation:{invitation_id}:")
    assert states[f"invitation:{invitation_id}:notice:@marine.purson"] == "failed"


async def _never(keys: object) -> dict[str, bool]:
    return {}


def test_recalls_go_to_the_pinned_ids_only(service, directory) -> None:  # type: ignore[no-untyped-def]
    request(service)
    directory.sent.clear()
    directory.directory["marine.purson"] = ATTACKER.id
    asyncio.run(service.check_referents())
    service.clock.now += dt.timedelta(days=4)  # type: ignore[attr-defined]
    assert asyncio.run(service.recall()) == 1
    assert [user_id for user_id, _ in directory.sent] == [MAGALI.id]


def test_a_notice_queued_for_an_account_since_repinned_is_not_sent_to_the_new_one(
    service, directory, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    service.outbox.deliver = _never  # type: ignore[method-assign]  # queued, not sent yet
    invitation_id = request(service)
    # Setup re-pins « marine.purson » to another account before the notice goes out: the
    # notice was written for the account trusted when the request came, not for this one.
    directory.directory["marine.purson"] = "u-marine-new-account"
    asyncio.run(service.verify_referents("mattermost", repin=True))
    del service.outbox.deliver
    with caplog.at_level(logging.ERROR, logger="bot.outbox.worker"):
        asyncio.run(
            service.outbox.deliver(service.outbox.store.due(FakeClock()() + dt.timedelta(1)))
        )
    assert [user_id for user_id, _ in directory.sent] == [MAGALI.id]
    key = f"invitation:{invitation_id}:notice:@marine.purson"
    assert service.outbox.store.states(f"invitation:{invitation_id}:")[key] == "failed"
    assert (
        "referent marine.purson is not trusted now (see event=referent_held; "
        "fix content/referents.yaml, then run intra-bot setup)"
    ) in caplog.text


def test_a_notice_queued_before_pins_existed_goes_to_the_trusted_account(
    service, directory
) -> None:  # type: ignore[no-untyped-def]
    # Rows queued by an older version carry the username only.
    asyncio.run(service.referent_ids())
    service.outbox.store.add(
        Effect(
            "invitation:x:notice:@marine.purson",
            NOTICE,
            {"id": request_id(service), "username": "marine.purson"},
        ),
        FakeClock()(),
    )
    directory.sent.clear()
    asyncio.run(service.outbox.deliver(["invitation:x:notice:@marine.purson"]))
    assert [user_id for user_id, _ in directory.sent] == [MARINE.id]


def request_id(service: InvitationService) -> str:
    invitation = service.records.create(CAMILLE.id, "camille", "", FakeClock()())
    assert invitation is not None
    return invitation.id
