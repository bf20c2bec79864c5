"""`python -m tests.eval [-v]`: both scores, the gap, and the questions that fail.

-v also lists the development set's passes. The held-out set's questions are listed only
with --heldout-details: read them to measure, never to tune (see tests/eval/heldout.yaml).
"""

from __future__ import annotations

import sys

from bot.content.loader import load_content
from tests.eval.runner import (
    HELDOUT_FLOOR,
    HELDOUT_SET,
    PASS_MARK,
    evaluate,
    evaluate_development,
    report,
    score,
    summary,
)


def main(argv: list[str]) -> int:
    content = load_content()
    development = evaluate_development(content)
    heldout = evaluate(content, HELDOUT_SET)
    print(report(development, verbose="-v" in argv))
    if "--heldout-details" in argv:
        print(report(heldout, verbose=True))
    gap = score(development) - score(heldout)
    print(f"development {summary(development)}")
    print(f"held-out    {summary(heldout)}")
    print(
        f"gap: {gap * 100:+.1f} points; pass marks: development {PASS_MARK:.0%}, "
        f"held-out floor {HELDOUT_FLOOR:.0%}"
    )
    return 0 if score(development) >= PASS_MARK and score(heldout) >= HELDOUT_FLOOR else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
