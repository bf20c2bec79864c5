"""Score the bot's answers against the evaluation sets.

Two sets: the development set (tests/eval/questions.yaml), which the content's paraphrases
are tuned on, and the held-out set (tests/eval/heldout.yaml), written blind from the public
doc and never tuned on: its score says how the bot does on people's questions; the gap
between the two, how much of the first is fitting.

An in-scope question passes when every expected fact appears in the first `within`
characters of the reply; an out-of-scope one when the reply is the honest « no answer »; a
greeting (« bonjour », « merci ») when the reply is a short one that points to `aide`.
Replies come from the same path as `intra-bot ask`: the conversation, with the club
service answering from the rule (no store, no server).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.answers.conversation import Conversation
from bot.chat import Message, User
from bot.club.service import ClubService
from bot.content.loader import Content, ContentSource

EVAL_SET = Path(__file__).resolve().parent / "questions.yaml"
HELDOUT_SET = Path(__file__).resolve().parent / "heldout.yaml"
# The development sets and the score each must keep. questions.yaml was written with the
# content; the blind ones were written from the public doc by people who never saw the
# content (tuned on since, like the first). Their floors only go up.
DEVELOPMENT_FLOORS = {
    EVAL_SET: 0.90,
    EVAL_SET.with_name("blind-dev.yaml"): 0.89,
    EVAL_SET.with_name("blind-dev-2.yaml"): 0.80,
    # 69.1 % before any tuning on it (a second held-out measure, taken once).
    EVAL_SET.with_name("blind-dev-3.yaml"): 0.80,
    # 61.5 % when it arrived, before any tuning on it (a third held-out measure, taken once):
    # phonetic spellings, two questions in one, rumours to check, formal and dictated French.
    EVAL_SET.with_name("blind-dev-4.yaml"): 0.72,
}
# The share of out-of-scope questions answered honestly: all of them, but on the two newest
# sets, whose few misses (« combien de fonctionnaires en France ? », « mon service RH »,
# « le badge de l'immeuble de la DINUM ») are made of the content's own words.
HONEST_FLOORS = {
    EVAL_SET.with_name("blind-dev-3.yaml"): 0.9,
    EVAL_SET.with_name("blind-dev-4.yaml"): 0.9,
}
DEVELOPMENT_SETS = tuple(DEVELOPMENT_FLOORS)
PASS_MARK = DEVELOPMENT_FLOORS[EVAL_SET]
# The held-out set (never tuned on) may only go up: 57.0 % when written, 78.3 % after the
# first round of issue 20, 80.0 % after the second. Issue 20's target is TARGET with a gap
# of at most MAX_GAP.
HELDOUT_FLOOR = 0.78
TARGET = 0.90
MAX_GAP = 0.05
GREETING_LENGTH = 300
NO_ANSWER_MARK = "je n'ai pas de réponse"
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Outcome:
    question: str
    passed: bool
    reply: str
    missing: tuple[str, ...]
    out_of_scope: bool
    greeting: bool = False


def normalise(text: str) -> str:
    """As the set's header says: case-insensitive, accent-exact, any run of spaces is one."""
    return _SPACES.sub(" ", text).casefold()


def load_set(path: Path = EVAL_SET) -> tuple[int, list[dict[str, Any]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return int(data.get("within", 600)), list(data["questions"])


def evaluate(content: Content, path: Path = EVAL_SET) -> list[Outcome]:
    within, entries = load_set(path)
    source = ContentSource.of(content)
    conversation = Conversation(source)
    conversation.serve_topic("club", ClubService(source, store=None, owner="eval").reply)
    user = User(id="eval", username="eval")

    async def reply_to(text: str) -> str:
        return (await conversation.respond(Message(text=text, user=user, channel_id="eval"))).text

    async def run_all() -> list[Outcome]:
        outcomes = []
        for entry in entries:
            text = await reply_to(entry["q"])
            outcomes.append(_judge(entry, text, within))
        return outcomes

    return asyncio.run(run_all())


def _judge(entry: dict[str, Any], reply: str, within: int) -> Outcome:
    head = normalise(reply)[:within]
    honest = NO_ANSWER_MARK in normalise(reply)[:200]
    if entry.get("out_of_scope"):
        return Outcome(entry["q"], honest, reply, () if honest else ("(the honest answer)",), True)
    if entry.get("greeting"):
        short = len(reply) <= GREETING_LENGTH and "aide" in head and not honest
        missing_greeting = () if short else ("(a short greeting pointing to aide)",)
        return Outcome(entry["q"], short, reply, missing_greeting, False, greeting=True)
    missing = tuple(
        "|".join(options)
        for element in entry["expect"]
        if not any(
            normalise(option) in head
            for option in ([element] if isinstance(element, str) else element)
        )
        for options in [[element] if isinstance(element, str) else element]
    )
    return Outcome(entry["q"], not missing and not honest, reply, missing, False)


def score(outcomes: list[Outcome]) -> float:
    return sum(o.passed for o in outcomes) / len(outcomes) if outcomes else 0.0


def report(outcomes: list[Outcome], *, verbose: bool = False) -> str:
    lines = []
    for outcome in outcomes:
        if not outcome.passed or verbose:
            mark = "ok  " if outcome.passed else "FAIL"
            lines.append(f"{mark} {outcome.question!r}  missing: {', '.join(outcome.missing)}")
            if not outcome.passed:
                first = " ".join(outcome.reply.split())[:160]
                lines.append(f"       → {first}")
    lines.append(summary(outcomes))
    return "\n".join(lines)


def summary(outcomes: list[Outcome]) -> str:
    in_scope = [o for o in outcomes if not o.out_of_scope and not o.greeting]
    out = [o for o in outcomes if o.out_of_scope]
    greetings = [o for o in outcomes if o.greeting]
    return (
        f"score: {score(outcomes):.1%} ({sum(o.passed for o in outcomes)}/{len(outcomes)}) — "
        f"in scope {score(in_scope):.1%} ({len(in_scope)}), "
        f"out of scope {score(out):.1%} ({len(out)})"
        + (f", greetings {score(greetings):.1%} ({len(greetings)})" if greetings else "")
    )
