"""No mention fires from repeated user text, whatever its case or its Unicode form.

Mattermost treats `@ALL`, `@Channel` and `@Marine.Purson` as mentions whatever the
case, so each text the bot repeats is checked with mixed-case and Unicode variants,
not only with the lower-case spellings people usually type.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answers.answer import answer
from bot.chat import Platforms
from bot.content.loader import Content, ContentSource, load_content
from bot.invitations.records import DECLINED, PENDING, Invitation
from bot.invitations.service import InvitationService, InvitationSettings
from bot.invitations.texts import DECLINE, notice_text, outcome
from bot.store import Store
from bot.text import defuse, inline
from tests.fakes import MAGALI, NOW, FakeChatPlatform

CONTENT: Content = load_content()

# A mention is « @ » directly followed by what a username or a special mention is made of;
# the bot breaks it with an invisible joiner. Code spans (`@camille`) never notify.
LIVE_MENTION = re.compile(r"@[\w.\-]", re.UNICODE)
CODE_SPAN = re.compile(r"`[^`\n]*`")
SPECIAL = re.compile(r"@(all|channel|here)\b", re.IGNORECASE)

REQUESTERS = itertools.count()  # one store for all examples: one open request each
NAMES = ["all", "channel", "here", "marine.purson", "élodie", "zz.intrus", "jean-luc_2"]


def _variant(name: str, upper: list[bool], form: str) -> str:
    cased = "".join(
        c.upper() if flip else c for c, flip in zip(name, upper + [False] * 40, strict=False)
    )
    return unicodedata.normalize(form, cased)


# « @ALL », « @cHaNnEl », « @Élodie » decomposed (NFD), fullwidth « @ｈｅｒｅ »…
mentions = st.builds(
    _variant,
    st.sampled_from(NAMES),
    st.lists(st.booleans(), max_size=20),
    st.sampled_from(["NFC", "NFD"]),
).map(lambda name: "@" + name) | st.sampled_from(
    [
        "@ＡＬＬ",
        "@ｈｅｒｅ",
        "@Ｃhannel",
        "@ALL",
        "@Channel",
        "@HERE",
        "@Here:",
        "(@all)",
        "**@all**",
    ]
)
separators = st.sampled_from([" ", "\n", "", ",", "\t", "\u00a0", "> ", "`", "_", "*"])
user_texts = st.lists(st.one_of(mentions, st.text(max_size=20)), min_size=1, max_size=8).flatmap(
    lambda parts: st.lists(separators, min_size=len(parts), max_size=len(parts)).map(
        lambda seps: "".join(sep + part for sep, part in zip(seps, parts, strict=True))
    )
)


def live_mentions(text: str) -> list[str]:
    return LIVE_MENTION.findall(CODE_SPAN.sub("", text))


@given(user_texts)
def test_defuse_leaves_no_live_mention(text: str) -> None:
    assert live_mentions(defuse(text)) == []
    assert live_mentions(defuse(text, limit=40)) == []


@given(user_texts)
def test_inline_leaves_no_live_mention(text: str) -> None:
    assert live_mentions(inline(text)) == []
    assert live_mentions(inline(text, limit=30)) == []


@settings(max_examples=150, deadline=None)
@given(user_texts)
def test_answers_never_repeat_a_special_mention(text: str) -> None:
    """The replies that echo the question (not understood, search, resources)."""
    for asked in (text, f"chercher {text}", f"ressources {text}", f"zzqq {text}"):
        reply = answer(asked, CONTENT).text
        assert SPECIAL.search(reply) is None, reply
        assert "@zz.intrus" not in reply.casefold()


def _invitation(message: str = "", reason: str = "", state: str = PENDING) -> Invitation:
    return Invitation(
        id="inv1",
        requester_id="u-camille",
        requester_username="camille",
        message=message,
        state=state,
        created_at=NOW,
        decided_at=NOW if state != PENDING else None,
        decided_by="magali.marcel" if state != PENDING else "",
        decided_by_id="u-magali" if state != PENDING else "",
        reason=reason,
        notices=(),
    )


@given(user_texts)
def test_the_referents_notice_quotes_the_message_without_mentions(text: str) -> None:
    for short in (False, True):
        notice = notice_text(_invitation(message=text), None, "domaine-intras-prive", short=short)
        assert live_mentions(notice) == []


@given(user_texts)
def test_a_decline_outcome_repeats_the_reason_without_mentions(text: str) -> None:
    assert live_mentions(outcome(_invitation(reason=text, state=DECLINED))) == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(user_texts)
def test_the_decline_message_to_the_requester_has_no_mention(tmp_path: Path, text: str) -> None:
    platform = FakeChatPlatform()
    store = Store.open(f"sqlite:///{tmp_path}/mentions.db")
    service = InvitationService(
        ContentSource(), store, Platforms(platform), InvitationSettings(), lambda: NOW
    )
    invitation = service.records.create(f"u-{next(REQUESTERS)}", "camille", "", NOW)
    assert invitation is not None
    decision = asyncio.run(service.decide(invitation.id, DECLINE, MAGALI, text))
    assert decision.applied
    store.close()
    [(_, told)] = [(user, reply) for user, reply in platform.sent]
    assert live_mentions(told.text) == []


def test_the_examples_that_once_slipped_through_are_defused() -> None:
    for spelled in ("@ALL", "@Channel", "@hErE", "@Marine.Purson", "@E\u0301lodie", "@ＡＬＬ"):
        assert live_mentions(defuse(f"Bonjour {spelled} !")) == [], spelled
        assert live_mentions(inline(f"Bonjour {spelled} !")) == [], spelled
