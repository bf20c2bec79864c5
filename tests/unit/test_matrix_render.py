"""The core's reply as a Matrix notice: HTML and plain body, no ping, in the question's thread."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.matrix.render import in_thread, reply_content
from bot.chat import Button, Card, Reply


def test_markdown_becomes_html_and_the_body_stays_readable() -> None:
    content = reply_content(
        Reply(text="### Titre\n\n**Quand ?** jeudi\n- [Agenda](https://a.example/x)")
    )
    assert content["msgtype"] == "m.notice"
    assert content["format"] == "org.matrix.custom.html"
    assert "<h3>Titre</h3>" in content["formatted_body"]
    assert "<strong>Quand ?</strong>" in content["formatted_body"]
    assert '<a href="https://a.example/x">Agenda</a>' in content["formatted_body"]
    assert content["body"].startswith("### Titre")


def test_single_line_breaks_are_kept_as_mattermost_shows_them() -> None:
    html = reply_content(Reply(text="ligne un\nligne deux"))["formatted_body"]
    assert "ligne un<br />" in html


def test_a_reply_never_mentions_anyone() -> None:
    content = reply_content(Reply(text="Demandez à @room ou à @alice:example.org"))
    assert content["m.mentions"] == {}


def test_cards_follow_the_text_and_buttons_do_not_leak_as_markup() -> None:
    reply = Reply(
        text="Demandes en attente",
        cards=(Card(text="Alice veut rejoindre", buttons=(Button("Accepter", "accept", "1"),)),),
    )
    content = reply_content(reply)
    assert content["body"].index("Demandes") < content["body"].index("Alice veut rejoindre")
    assert "accept" not in content["body"]


@given(st.text(max_size=300))
def test_raw_html_typed_by_someone_is_escaped_never_passed_through(text: str) -> None:
    html = reply_content(Reply(text=f"Vous avez écrit : {text}<script>x</script><img src=x>"))[
        "formatted_body"
    ]
    assert "<script" not in html and "<img" not in html


def test_javascript_links_are_not_made_clickable() -> None:
    html = reply_content(Reply(text="[clic](javascript:alert(1))"))["formatted_body"]
    assert 'href="javascript' not in html


def test_a_threaded_reply_points_at_the_root_and_answers_the_question() -> None:
    content = in_thread(reply_content(Reply(text="ok")), "$root", "$question")
    relation = content["m.relates_to"]
    assert relation["rel_type"] == "m.thread"
    assert relation["event_id"] == "$root"
    assert relation["m.in_reply_to"] == {"event_id": "$question"}
    assert relation["is_falling_back"] is True
