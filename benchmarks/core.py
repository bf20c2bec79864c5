"""Core figures: cold start of `intra-bot ask referents` and answers per second.

    python benchmarks/core.py

Targets (issue « The core »): cold start < 1 s, >= 20,000 answers/s in process.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answers import answer  # noqa: E402
from bot.content import load_content  # noqa: E402

QUERIES = [
    "referents",
    "certification",
    "qui sont les référents ?",
    "ressources budget",
    "chercher rgpd",
    "comment se passe l'oral d'évaluation",
    "xyz",
    "refrents",
    "",
    "club",
]


def cold_start(runs: int = 7) -> tuple[float, float, int]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", "referents"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return statistics.median(times), max(times), peak_kib


def throughput(seconds: float = 2.0) -> float:
    content = load_content()
    for query in QUERIES:
        answer(query, content)
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for query in QUERIES:
            answer(query, content)
        count += len(QUERIES)
    return count / (time.perf_counter() - start)


def main() -> None:
    median, worst, peak_kib = cold_start()
    rate = throughput()
    print(
        f"cold start `intra-bot ask referents`: median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms"
    )
    print(f"peak RSS of the CLI process: {peak_kib / 1024:.1f} MiB")
    print(f"answer() throughput (mix of {len(QUERIES)} queries): {rate:,.0f} answers/s")
    print(
        f"ratio to targets: cold start {median / 1.0:.2f} of 1 s, throughput {rate / 20000:.1f}x of 20,000/s"
    )


if __name__ == "__main__":
    main()
