"""Which Matrix messages the bot answers, with what text, and in which thread."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.matrix.addressing import Addressed, addressed, server_of

BOT = "@intra-bot:agent.tchap.gouv.fr"
ALICE = "@alice:agent.tchap.gouv.fr"


def ask(body: str, *, direct: bool = False, sender: str = ALICE, **extra: Any) -> Addressed | None:
    content = {"msgtype": "m.text", "body": body, **extra}
    return addressed(content, event_id="$q", sender=sender, bot_user_id=BOT, direct=direct)


def test_the_command_in_a_room_is_answered_in_its_thread() -> None:
    assert ask("!intra référents") == Addressed(text="référents", thread_root="$q")
    assert ask("!INTRA   club  ") == Addressed(text="club", thread_root="$q")
    assert ask("!intra") == Addressed(text="", thread_root="$q")


def test_room_chatter_and_lookalikes_are_ignored() -> None:
    assert ask("bonjour à tous") is None
    assert ask("!intrapreneurs, bonjour") is None
    assert ask("je tape !intra aide") is None


def test_any_text_in_a_dm_is_answered_beside_it() -> None:
    assert ask("comment devenir référent ?", direct=True) == Addressed(
        text="comment devenir référent ?", thread_root=""
    )
    assert ask("!intra aide", direct=True) == Addressed(text="aide", thread_root="")


def test_a_question_inside_a_thread_is_answered_in_that_thread() -> None:
    relation = {"rel_type": "m.thread", "event_id": "$root"}
    assert ask("!intra aide", **{"m.relates_to": relation}) == Addressed("aide", "$root")
    assert ask("aide", direct=True, **{"m.relates_to": relation}) == Addressed("aide", "$root")


def test_a_mention_through_m_mentions_is_answered_without_the_pill_text() -> None:
    mentions = {"user_ids": [BOT]}
    got = ask("intra-bot: qui sont les référents ?", **{"m.mentions": mentions})
    assert got == Addressed(text="qui sont les référents ?", thread_root="$q")
    # a name in the text without m.mentions is not a mention
    assert ask("intra-bot: aide") is None


def test_the_bot_itself_edits_and_other_kinds_are_never_answered() -> None:
    assert ask("!intra aide", sender=BOT) is None
    assert ask("!intra aide", direct=True, msgtype="m.notice") is None
    assert ask("!intra aide", msgtype="m.image") is None
    edit = {"rel_type": "m.replace", "event_id": "$old"}
    assert ask("!intra aide", **{"m.relates_to": edit}) is None


def test_a_reply_fallback_is_not_part_of_the_question() -> None:
    body = "> <@bob:example.org> !intra club\n> et le reste\n\n!intra aide"
    assert ask(body) == Addressed(text="aide", thread_root="$q")


def test_server_of_a_user_id() -> None:
    assert server_of("@a.b-c:agent.dinum.tchap.gouv.fr") == "agent.dinum.tchap.gouv.fr"
    assert server_of("@a:localhost:8448") == "localhost:8448"
    assert server_of("alice") == ""


@given(st.text(max_size=200), st.booleans())
def test_any_body_gives_none_or_a_text_within_the_body(body: str, direct: bool) -> None:
    got = ask(body, direct=direct)
    if got is not None:
        assert len(got.text) <= len(body)
        assert got.thread_root in ("", "$q")


@given(st.dictionaries(st.text(max_size=10), st.none() | st.integers() | st.text(max_size=10)))
def test_malformed_content_is_ignored_not_a_crash(content: dict[str, Any]) -> None:
    addressed(content, event_id="$q", sender=ALICE, bot_user_id=BOT, direct=True)
