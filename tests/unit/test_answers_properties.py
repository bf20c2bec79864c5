"""For any text at all, `answer` returns a postable reply and never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answers.answer import answer
from bot.chat import MAX_REPLY_CHARS, Reply
from bot.content.loader import Content, load_content

CONTENT: Content = load_content()
words = st.sampled_from(
    ["aide", "ressources", "chercher", "club", "référents", "/intra", "@all", "**", "`", "é", " "]
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=2000), st.lists(words, max_size=30).map(" ".join)))
def test_answer_never_raises_and_fits(text: str) -> None:
    reply = answer(text, CONTENT)
    assert isinstance(reply, Reply)
    assert 0 < len(reply.text) <= MAX_REPLY_CHARS


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_user_text_never_pings_channel(text: str) -> None:
    reply = answer(f"zzqq @channel @all @here {text}", CONTENT)
    for mention in ("@channel", "@all", "@here"):
        assert mention not in reply.text
