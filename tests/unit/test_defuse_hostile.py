"""`defuse` against what people can put in their profile, a request or a reason."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat import User
from bot.invitations.records import PENDING, Invitation
from bot.invitations.texts import at_username, notice_text
from bot.text import Form, defuse
from tests.mattermost_markdown import fires, rendered

SPECIAL = set("\\`*_{}[]()#+-!|>~<=&$")


def unescaped_specials(markdown: str) -> set[str]:
    """Markdown characters left without their escaping backslash."""
    return set(re.sub(r"\\.", "", markdown)) & SPECIAL


HOSTILE = [
    "@all",
    "@ALL on y va",
    "@Channel",
    "@hErE",
    "＠all",  # fullwidth commercial at
    "﹫channel",  # small commercial at
    "@\u200ball",  # zero-width space
    "@\u200dhere",  # zero-width joiner
    "@\u2060channel",  # our own word joiner, typed by someone
    "\u202e@all",  # right-to-left override
    "&#64;all",
    "&commat;channel",
    "&#x40;here",
    "@marine.purson et @magali.marcel",
    "[clic](javascript:alert(1))",
    "[clic](JaVaScRiPt:alert(1))",
    "![img](https://evil.example/x.png)",
    "![img](data:text/html;base64,PHNjcmlwdD4=)",
    "<javascript:alert(1)>",
    "[ref]: https://evil.example",
    "```\n@here\n```",
    "~~~\n@all\n~~~",
    "# Titre\n## Sous-titre",
    "Titre\n=====",
    "| a | b |\n|---|---|\n| @all | x |",
    "> citation\n>> imbriquée",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "- liste\n+ liste\n* liste\n1. liste",
    "**gras** _italique_ ~~barré~~ `code`",
    "~domaine-intras-prive",
    "$$\\frac{1}{2}$$",
    "ligne\\\n@all",
    "a" * 5000,
    "@here " * 400,
]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("form", [Form.QUOTE, Form.INLINE])
def test_nothing_fires_and_no_markdown_is_left(text: str, form: Form) -> None:
    out = defuse(text, limit=200, form=form)
    assert fires(out) == []
    body = "\n".join(line.removeprefix("> ") for line in out.split("\n"))
    assert unescaped_specials(body) == set()
    assert len(rendered(body).replace("\u2060", "").replace("\n", "")) <= 200


@pytest.mark.parametrize("text", HOSTILE)
def test_in_a_code_span_nothing_closes_it(text: str) -> None:
    out = defuse(text, limit=64, form=Form.CODE)
    assert "`" not in out and "\n" not in out
    assert "@" not in out.replace("@\u2060", "")
    assert len(out.replace("\u2060", "")) <= 64


def test_quote_form_keeps_lines_quoted_and_bounded() -> None:
    out = defuse("\n".join(f"ligne {n}" for n in range(40)), limit=2000)
    lines = out.split("\n")
    assert all(line.startswith("> ") for line in lines)
    assert len(lines) == 12 and "ligne 39" in lines[-1]


def test_a_readable_message_stays_readable() -> None:
    assert defuse("Bonjour, je suis intra à la DGFiP. Merci !") == (
        "> Bonjour, je suis intra à la DGFiP. Merci \\!"
    )
    assert defuse("Écrire à l'équipe", form=Form.INLINE) == "Écrire à l'équipe"


def test_long_values_are_cut_with_an_ellipsis() -> None:
    out = defuse("mot " * 1000, limit=50, form=Form.INLINE)
    assert out.endswith("…") and len(out) <= 50


def test_the_hostile_profile_of_the_issue_is_defused_in_the_notice() -> None:
    invitation = Invitation(
        id="inv1",
        requester_id="u1",
        requester_username="camille",
        message="@channel regardez [ici](javascript:alert(1))",
        state=PENDING,
        created_at=dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC),
        decided_at=None,
        decided_by="",
        decided_by_id="",
        reason="",
        notices=(),
    )
    profile = User(
        "u1",
        "camille",
        full_name="@all [clic](javascript:alert(1))",
        position="@here ``` ",
    )
    text = notice_text(invitation, profile, "domaine-intras-prive")
    assert fires(text) == []
    assert "](" not in rendered(text.replace("\\]\\(", ""))
    assert "`@camille`" in text
    assert "```" not in text


def test_username_is_a_code_span_that_cannot_be_closed() -> None:
    assert at_username("camille") == "`@camille`"
    assert at_username("ev`il @all") == "`@evʼil @\u2060all`"


_ATS = st.sampled_from(["@", "＠", "﹫", "&#64;", "&commat;", "&#x40;"])
_INVISIBLE = st.sampled_from(
    ["", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u00ad"]
)
_SPECIAL_WORDS = st.sampled_from(["all", "channel", "here", "marine.purson", "magali.marcel"])


@st.composite
def mentions(draw: st.DrawFn) -> str:
    """« @all » and friends in mixed case, behind Unicode variants and invisible characters."""
    word = draw(_SPECIAL_WORDS)
    cased = "".join(c.upper() if draw(st.booleans()) else c for c in word)
    return draw(_ATS) + draw(_INVISIBLE) + cased


@given(st.lists(st.one_of(mentions(), st.text(max_size=20)), max_size=12), st.sampled_from(Form))
def test_no_mention_fires_whatever_the_case_and_unicode(parts: list[str], form: Form) -> None:
    out = defuse(" ".join(parts), limit=300, form=form)
    if form is Form.CODE:
        assert "`" not in out
        assert "@" not in out.replace("@\u2060", "")
    else:
        assert fires(out) == []
        assert "@" not in rendered(out).replace("@\u2060", "")


@given(st.text(max_size=600), st.sampled_from([Form.QUOTE, Form.INLINE]))
def test_every_markdown_character_is_escaped(text: str, form: Form) -> None:
    out = defuse(text, limit=300, form=form)
    body = "\n".join(line.removeprefix("> ") for line in out.split("\n"))
    assert unescaped_specials(body) == set()
    assert not any(unicodedata.category(c) in {"Cc", "Cs", "Co"} for c in body if c != "\n")
    if form is Form.INLINE:
        assert "\n" not in out


@pytest.mark.parametrize(
    "question",
    [
        "ressources zzz` @all [x](javascript:alert(1))",
        "chercher qqqq @here **x**",
        # « @Here », not « @Channel »: « channel » names the channels topic, whose
        # overview would answer instead of the reply that repeats the question.
        "zzzz @Here ```",
    ],
)
def test_what_the_answers_repeat_of_a_question_is_defused(question: str) -> None:
    from bot.answers.answer import answer
    from bot.content.loader import ContentSource

    text = answer(question, ContentSource().current).text
    assert fires(text) == []
    # Outside code spans (where a backslash escapes), no link; a span ends where the bot ends it.
    assert "](" not in re.sub(r"`[^`]*`", "", re.sub(r"\\.", "", text))
    if question.startswith("ressources"):
        assert re.search(r"`/intra chercher [^`]*` pour chercher partout", text), text


# What Mattermost (its marked fork: a scheme and « : », « www » and up to 3 digits and a
# dot, an email, a host with a path) and Element (linkify: any host with a known TLD,
# with « . » or « 。 ») turn into a link in plain text.
AUTOLINK = re.compile(
    r"[a-z][a-z0-9+.\-]*:\S"  # https://…, http://…, ftp://…, mailto:…, tel:…
    r"|www\d{0,3}[.。]\S"
    r"|[\w.+\-]+@[\w\-]"  # an email
    r"|[a-z0-9\-][.。][a-z0-9]",  # evil.example, evil.example/path, 127.0.0.1
    re.IGNORECASE,
)
BARE_LINKS = [
    "https://evil.example",
    "http://evil.example/chemin?x=1",
    "HTTPS://EVIL.EXAMPLE",
    "www.example.org",
    "WWW1.example.org/x",
    "ftp://files.example.org",
    "mailto:camille@example.org",
    "camille@example.org",
    "tel:+33612345678",
    "evil.example/path",
    "evil.com",
    "http://127.0.0.1:8065",
    "https://[::1]:80",
    "ｈｔｔｐｓ：／／ｅｖｉｌ．ｅｘａｍｐｌｅ",  # fullwidth, NFKC makes it ASCII
    "evil。example",
    "voir (https://evil.example) ou <www.example.org>",
]


@pytest.mark.parametrize("text", BARE_LINKS)
@pytest.mark.parametrize("form", [Form.QUOTE, Form.INLINE])
def test_no_bare_address_becomes_a_link_and_it_reads_the_same(text: str, form: Form) -> None:
    out = defuse(text, limit=200, form=form)
    body = "\n".join(line.removeprefix("> ") for line in out.split("\n"))
    assert not AUTOLINK.search(rendered(body)), out
    assert not AUTOLINK.search(body), out
    # A reader sees the address as it was typed (after NFKC), the joiners being invisible.
    seen = rendered(body).replace("\u2060", "")
    assert seen == unicodedata.normalize("NFKC", text)


def test_prose_keeps_its_punctuation_untouched() -> None:
    text = "Bonjour. Je suis intra : à bientôt."
    assert defuse(text, form=Form.INLINE) == text


_URL_PARTS = st.sampled_from(
    ["https://", "http://", "ftp://", "mailto:", "tel:", "www.", "www2.", "evil", ".example",
     ".org", "/path", "@", " ", ".", ":", "。", "．", "：", "Ｗ", "-", "1", "\u2060", "\\"]
)  # fmt: skip


@given(st.lists(st.one_of(_URL_PARTS, st.text(max_size=5)), max_size=30), st.sampled_from(Form))
def test_no_output_of_defuse_is_an_autolink(parts: list[str], form: Form) -> None:
    out = defuse("".join(parts), limit=300, form=form)
    if form is Form.CODE:
        return  # inside a code span neither Mattermost nor Element makes a link
    body = "\n".join(line.removeprefix("> ") for line in out.split("\n"))
    assert not AUTOLINK.search(rendered(body)), out
    assert not AUTOLINK.search(body), out
