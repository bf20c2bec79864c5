"""Core figures: cold `intra-bot ask`, index build at load, and answers per second.

    python benchmarks/core.py [--rounds 5]

Targets (issue 12, kept by issue 20): cold `intra-bot ask` <= 1 s, index build <= 200 ms,
>= 20,000 answers/s in process on typical questions; since the words' shapes (issue 20),
>= 20,000/s on the questions the words settle and >= 2,000/s on those that ask the shapes. Each figure is measured in
several rounds, alternating with the others so that noise from a shared machine
spreads over all of them; the median is printed with the spread (min-max).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answers.answer import answer  # noqa: E402
from bot.content.loader import load_content  # noqa: E402
from bot.content.retrieval import Retriever  # noqa: E402
from bot.content.units import units_of  # noqa: E402

# Typical questions: commands, bare topics, short and long questions, typos, out of scope.
QUERIES = [
    "referents",
    "certification",
    "qui sont les référents ?",
    "combien de temps dure l'oral de certification ?",
    "c'est combien la certif ?",
    "duree oral certif",
    "combien de temps dure la phase d'investigation ?",
    "salaire intrapreneur",
    "je suis nouvel intra, par ou je commence ?",
    "clinique situations difficiles",
    "ressources budget",
    "chercher rgpd",
    "certification oral",
    "refrents",
    "recette de la tarte aux pommes",
    "",
]
# Informal French, typos, words the content lacks: what the words alone may not settle.
INFORMAL = [
    "c koi la certif exactement",
    "jveux devenir intra jfais comment",
    "onbording nouveaux intras",
    "certificaiton duree de l oral",
    "etude intraprenariat securite sociale",
    "la clinique c cb de temps",
    "ya un club ce mois ci ?",
    "merci, c'est très clair !",
]


def split_by_shapes(queries: list[str]) -> tuple[list[str], list[str]]:
    """The questions the words settle, and those that ask the words' shapes too."""
    content = load_content()
    retriever = content.retriever
    search = retriever.search
    asked: list[bool] = []

    def spy(text: str, **options: Any) -> Any:
        asked.append(bool(options.get("shapes")))
        return search(text, **options)

    retriever.search = spy  # type: ignore[method-assign]
    settled: list[str] = []
    shaped: list[str] = []
    for query in queries:
        asked.clear()
        answer(query, content)
        (shaped if any(asked) else settled).append(query)
    return settled, shaped


def cold_ask() -> tuple[float, float]:
    """Wall time of a fresh `intra-bot ask` process, and its CPU time (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "ask", "combien de temps dure l'oral de certification ?"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def index_build() -> float:
    content = load_content()
    units = units_of(content.topics.values())
    start = time.perf_counter()
    Retriever(units, content.retriever.analyzer)
    return time.perf_counter() - start


def load_all() -> float:
    start = time.perf_counter()
    load_content()
    return time.perf_counter() - start


def throughput(seconds: float = 1.0, queries: list[str] = QUERIES) -> tuple[float, float]:
    """Answers per second of wall time, and per second of this process's CPU time.

    On a shared machine the wall figure swings with the neighbours' load; the CPU figure
    is what one core would do alone.
    """
    content = load_content()
    for query in queries:
        answer(query, content)
    count = 0
    start, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        for query in queries:
            answer(query, content)
        count += len(queries)
    return count / (time.perf_counter() - start), count / (time.process_time() - cpu)


def throughput_uncached(seconds: float = 1.0) -> float:
    """Answers per CPU second when no question was seen before: the caches keyed on a
    question's text (its words, its split, its topic, a mistyped command) are emptied before
    each. The caches keyed on a single word (stem, typo neighbours) stay warm, as they do
    in service, where new questions are made of words already seen."""
    from bot.answers import answer as answers
    from bot.content import analysis

    caches = [
        analysis._words,
        analysis._content_words,
        answers._split,
        answers._topic_named_in,
        answers._close_names,
    ]
    content = load_content()
    count = 0
    start, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        for query in QUERIES:
            for cache in caches:
                cache.cache_clear()
            answer(query, content)
        count += len(QUERIES)
    return count / (time.process_time() - cpu)


def spread(values: list[float], scale: float, unit: str, digits: int = 0) -> str:
    median = statistics.median(values) * scale
    return (
        f"median {median:,.{digits}f} {unit} "
        f"(min {min(values) * scale:,.{digits}f}, max {max(values) * scale:,.{digits}f}, "
        f"{len(values)} rounds)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    colds, cold_cpus, builds, loads, rates, cpu_rates, fresh = [], [], [], [], [], [], []
    settled, shaped = split_by_shapes(QUERIES + INFORMAL)
    settled_rates, shaped_rates = [], []
    for _ in range(rounds):  # alternate: each round measures everything once
        wall, cpu = cold_ask()
        colds.append(wall)
        cold_cpus.append(cpu)
        builds.append(index_build())
        loads.append(load_all())
        rate, cpu_rate = throughput()
        rates.append(rate)
        cpu_rates.append(cpu_rate)
        fresh.append(throughput_uncached())
        settled_rates.append(throughput(queries=settled)[1])
        shaped_rates.append(throughput(queries=shaped)[1])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f'cold `intra-bot ask "…"`, wall: {spread(colds, 1000, "ms")}')
    print(f'cold `intra-bot ask "…"`, CPU:  {spread(cold_cpus, 1000, "ms")}')
    print(f"index build (units -> BM25):     {spread(builds, 1000, 'ms', 1)}")
    print(f"whole content load (YAML+index): {spread(loads, 1000, 'ms', 1)}")
    print(f"answer(), {len(QUERIES)} typical questions, wall: {spread(rates, 1, 'answers/s')}")
    print(f"answer(), {len(QUERIES)} typical questions, CPU:  {spread(cpu_rates, 1, 'answers/s')}")
    print(f"answer(), never-seen questions, CPU:    {spread(fresh, 1, 'answers/s')}")
    print(
        f"answer(), {len(settled)} the words settle, CPU: {spread(settled_rates, 1, 'answers/s')}"
    )
    print(
        f"answer(), {len(shaped)} that ask the shapes, CPU: {spread(shaped_rates, 1, 'answers/s')}"
    )
    print(f"peak RSS of the CLI process: {peak_kib / 1024:.1f} MiB")
    print(
        f"ratio to targets (CPU, what one free core does): cold ask "
        f"{statistics.median(cold_cpus):.2f} of 1 s, index "
        f"{statistics.median(builds) * 1000 / 200:.2f} of 200 ms, throughput "
        f"{statistics.median(cpu_rates) / 20000:.1f}x of 20,000/s "
        f"(never-seen questions {statistics.median(fresh) / 20000:.1f}x); settled "
        f"{statistics.median(settled_rates) / 20000:.1f}x of 20,000/s, with the shapes "
        f"{statistics.median(shaped_rates) / 2000:.1f}x of 2,000/s"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
