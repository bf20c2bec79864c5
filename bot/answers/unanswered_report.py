"""`intra-bot unanswered`: the questions without a sure answer, for the content's editors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store's modules cost a cold `intra-bot ask` 0.3 s
    from bot.answers.question_log import Unanswered


def unanswered_report(groups: Sequence[Unanswered], since: dt.date) -> str:
    if not groups:
        return f"Aucune question sans réponse depuis le {since.isoformat()}."
    total = sum(group.count for group in groups)
    lines = [
        f"{total} question{'s' if total > 1 else ''} sans réponse sûre depuis le "
        f"{since.isoformat()} ({len(groups)} formulation{'s' if len(groups) > 1 else ''}) :",
        "",
        f"{'fois':>4}  {'dernière':<10}  {'meilleure unité (score)':<40}  question",
    ]
    for group in groups:
        best = f"{group.best_unit or '—'} ({group.best_score:.2f})"
        lines.append(
            f"{group.count:>4}  {group.last_asked.date().isoformat():<10}  {best:<40}  {group.text}"
        )
    lines += [
        "",
        "Pour qu'une question trouve sa réponse : ajoutez sa formulation aux « questions: » de la "
        "section qui répond (voir content/README.md), ou le fait qui manque. "
        '`intra-bot ask --explain "…"` montre pourquoi une unité gagne.',
    ]
    return "\n".join(lines)
