"""For any text: the analysis, the search and the typography never raise, stay bounded,
and the typography only ever changes spaces."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answers.explain import explain
from bot.content.analysis import MAX_TERMS
from bot.content.loader import Content, load_content
from bot.content.typography import french

CONTENT: Content = load_content()
SPACES = re.compile("[ \u00a0\u202f]")
french_text = st.text(alphabet=st.sampled_from(list("ab1 :;!?«»%h`[]()/.\n")), max_size=200)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000))
def test_search_never_raises_and_reads_a_bounded_question(text: str) -> None:
    result = CONTENT.retriever.search(text)
    assert len(result.terms) <= MAX_TERMS
    assert len(result.ranked) <= 5
    assert 0.0 <= result.coverage <= 1.0
    assert explain(text, CONTENT)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), french_text))
def test_typography_changes_only_spaces_and_is_idempotent(text: str) -> None:
    typeset = french(text)
    assert SPACES.sub("", typeset) == SPACES.sub("", text)
    assert french(typeset) == typeset
