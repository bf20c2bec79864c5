"""`intra-bot ask --explain`: why a unit won, for the editors who add paraphrases."""

from __future__ import annotations

from bot.answers.anchors import anchored_topics
from bot.answers.answer import respond
from bot.answers.decision import (
    MIN_COVERAGE_TIED_TOPIC,
    MIN_SCORE,
    MIN_TIED_ELSEWHERE_COVERAGE,
    MIN_UNTIED_COVERAGE,
)
from bot.content.loader import Content


def explain(text: str, content: Content, *, limit: int = 8) -> str:
    """The question's terms, the ranked units with their scores and matched words, the verdict."""
    result = content.retriever.search(text, limit=limit, explain=True)
    lines = ["Mots de la question (tel que tapé → terme cherché) :"]
    known = content.retriever.postings
    for typed, term in result.terms:
        note = "" if term in known else "  (absent du contenu : faute de frappe ?)"
        lines.append(f"  {typed} → {term}{note}")
    lines.append("")
    tied = anchored_topics(content, result.found)
    lines.append(f"Sujets nommés : {', '.join(tied) or 'aucun'}")
    lines.append(
        f"Unités classées (seuils : score ≥ {MIN_SCORE} ; couverture ≥ "
        f"{MIN_UNTIED_COVERAGE:.0%} sans sujet nommé, ≥ {MIN_COVERAGE_TIED_TOPIC:.0%} "
        f"dans le sujet nommé, ≥ {MIN_TIED_ELSEWHERE_COVERAGE:.0%} ailleurs) :"
    )
    for rank, hit in enumerate(result.ranked, start=1):
        words = ", ".join(
            f"{m.typed}"
            + (f"≈{m.term}" if m.term != content.retriever.analyzer.term(m.typed) else "")
            for m in hit.matches
        )
        lines.append(
            f"  {rank}. {hit.score:6.2f}  {hit.unit.id}  [{hit.unit.kind}] {hit.unit.title}"
        )
        lines.append(f"           mots trouvés : {words}")
    if not result.ranked:
        lines.append("  (aucune)")
    lines.append("")
    lines.append(f"Couverture de la meilleure unité : {result.coverage:.0%}")
    outcome = respond(text, content)
    if outcome.answered:
        verdict = "réponse"
    elif outcome.topic_id:
        verdict = "l'aperçu du sujet nommé (aucune unité plus précise)"
    else:
        verdict = "pas de réponse sûre"
    lines.append(
        f"Décision : {verdict} (sujet : {outcome.topic_id or '—'}, unité : {outcome.unit_id or '—'})"
    )
    return "\n".join(lines)
