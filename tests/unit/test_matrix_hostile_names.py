"""A display name is user text: on Matrix too, repeating it pings nobody and renders no markup.

The core defuses it (`bot.text.defuse`, through the invitation texts); the Matrix renderer
turns the core's Markdown into `formatted_body` with raw HTML off and an empty `m.mentions`.
Together: no `<a>`, no `<img>`, no live « @room », whatever the name.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.matrix.render import reply_content
from bot.chat import Reply, User
from bot.invitations.records import PENDING, Invitation
from bot.invitations.texts import notice_text
from bot.text import inline

HOSTILE = "@room <img src=x> [clic](javascript:alert(1)) <a href='https://evil.example'>x</a>"


def notice_for(name: str, user_id: str = "@mallory:agent.dinum.tchap.gouv.fr") -> dict[str, object]:
    invitation = Invitation(
        id="1",
        requester_id=user_id,
        requester_username=user_id,
        message="",
        state=PENDING,
        created_at=dt.datetime(2026, 11, 28, 15, tzinfo=dt.UTC),
        decided_at=None,
        decided_by="",
        decided_by_id="",
        reason="",
        notices=(),
    )
    profile = User(user_id, user_id, full_name=name)
    return reply_content(Reply(notice_text(invitation, profile, "domaine-intras-prive")))


def test_the_invitation_notice_shows_a_hostile_name_as_plain_text() -> None:
    content = notice_for(HOSTILE)
    html = str(content["formatted_body"])
    body = str(content["body"])
    assert content["m.mentions"] == {}
    assert "<img" not in html and "<a " not in html and 'href="' not in html
    assert "&lt;img src=x&gt;" in html  # shown, as text
    assert "@room" not in body and "@room" not in html  # the « @ » is followed by a joiner
    assert "@\u2060room" in body


@given(st.text(max_size=120))
def test_no_name_gives_a_link_an_image_or_a_room_ping(name: str) -> None:
    html = str(reply_content(Reply(f"**{inline(name)}** demande à rejoindre."))["formatted_body"])
    assert "<a " not in html and "<img" not in html
    assert "@room" not in html.lower()
