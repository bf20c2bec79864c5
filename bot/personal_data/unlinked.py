"""Records that hold nothing that names a person, said so in `forget`'s report.

`handled_events` keys name posts and events (`post:<id>`, `matrix:<event id>`), never who
wrote them; `questions_asked` keeps the text of unanswered questions but never who asked
(bot/answers/question_log.py). Neither can be found from a person: each is deleted after
its retention, whoever it came from.
"""

from __future__ import annotations

from bot.config import Settings
from bot.personal_data.model import Outcome, Person, Rows


class UnlinkedRecords:
    name = "unlinked"

    def __init__(self, settings: Settings) -> None:
        self._claims_days = settings.store.claims_retention_days
        self._questions_days = settings.answers.retention_days

    async def known_as(self, person: Person) -> Person:
        return person

    async def export(self, person: Person) -> dict[str, Rows]:
        return {}

    async def forget(self, person: Person) -> list[Outcome]:
        return [
            Outcome(
                "handled_events",
                0,
                "rows: not linked to a person (post and event ids); "
                f"deleted after {self._claims_days:g} days",
            ),
            Outcome(
                "questions_asked",
                0,
                "rows: not linked to a person (no user id stored); "
                f"deleted after {self._questions_days:g} days",
            ),
        ]
