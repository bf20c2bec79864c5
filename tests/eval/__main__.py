"""`python -m tests.eval [-v]`: print the evaluation score and the questions that fail."""

from __future__ import annotations

import sys

from bot.content.loader import load_content
from tests.eval.runner import PASS_MARK, evaluate, report, score


def main(argv: list[str]) -> int:
    outcomes = evaluate(load_content())
    print(report(outcomes, verbose="-v" in argv))
    return 0 if score(outcomes) >= PASS_MARK else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
