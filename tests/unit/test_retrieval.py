"""BM25 over units: the right unit first, typos forgiven, field weights respected."""

from __future__ import annotations

from bot.content.analysis import MAX_QUESTION_CHARS, Analyzer
from bot.content.loader import Content
from bot.content.retrieval import MAX_TYPO_LENGTH, Retriever
from bot.content.units import SECTION, Unit


def unit(unit_id: str, *, title: str = "", text: str = "", questions: tuple[str, ...] = ()) -> Unit:
    return Unit(
        id=unit_id,
        kind=SECTION,
        topic_id="t",
        title=title,
        markdown=text,
        source="https://example.org",
        command="/intra t",
        text=text,
        questions=questions,
    )


def small() -> Retriever:
    return Retriever(
        [
            unit("oral", title="L'oral", text="un entretien d'une heure avec un coach"),
            unit("cout", title="Le coût", text="rien pour vous", questions=("c'est payant ?",)),
            unit(
                "budget", title="Le budget", text="payant ou gratuit selon les cas, voir le budget"
            ),
            unit("club", title="Le club", text="le premier jeudi du mois"),
        ],
        Analyzer(),
    )


def test_a_paraphrase_beats_body_text() -> None:
    # « payant » is in the budget's text and in the cost's questions: the question wins.
    assert [r.unit.id for r in small().search("payant").ranked][:2] == ["cout", "budget"]


def test_a_typo_finds_the_word_one_letter_away() -> None:
    retriever = small()
    for typed in ("entretein", "entretin", "entrettien", "entretien"):
        best = retriever.search(typed).best
        assert best is not None and best.unit.id == "oral", typed


def test_a_short_or_very_long_unknown_word_is_not_guessed() -> None:
    retriever = small()
    assert retriever.search("clu").ranked == ()  # too short to correct safely
    assert retriever.search("e" * (MAX_TYPO_LENGTH + 1)).ranked == ()


def test_coverage_says_how_much_of_the_question_the_best_unit_holds() -> None:
    retriever = small()
    assert retriever.search("premier jeudi").coverage == 1.0
    # A word the content lacks weighs as much as its rarest word (« premier », in one unit).
    assert retriever.search("premier zzzyyyxxx").coverage == 0.5


def test_the_tail_of_a_long_question_is_not_read() -> None:
    retriever = small()
    question = "rien " + " " * MAX_QUESTION_CHARS + "club jeudi"
    assert [r.unit.id for r in retriever.search(question).ranked] == ["cout"]


def test_real_content_answers_with_units_not_topics(content: Content) -> None:
    best = content.retriever.search("combien de temps dure l'oral de certification ?").best
    assert best is not None and best.unit.id.startswith("certification/")
    assert best.unit.kind != "sujet"


def test_topic_filter(content: Content) -> None:
    ranked = content.retriever.search("coach", topic="carriere").ranked
    assert ranked and all(r.unit.topic_id == "carriere" for r in ranked)
