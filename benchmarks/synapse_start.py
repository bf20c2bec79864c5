"""How long `scripts/synapse.sh up` takes: with the Synapse venv cached, and from nothing.

    python benchmarks/synapse_start.py [--rounds 3] [--cold-installs 1]

Each round, on a port and run dir of its own: a **fresh** `up` (venv cached, empty run dir:
configure, signing key, start, bootstrap of users and rooms), then `down` and a **warm**
`up` (same data: start and an idempotent bootstrap). `--cold-installs N` also times N `up`s
into an empty cache (INTRA_BOT_CACHE in a temp dir: the Synapse venv installed from the
package index first), the first run on a new machine. Prints each kind's median, min and max,
total and "Synapse answers after" (its own start, from the script's log).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "synapse.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Homeserver:
    def __init__(self, cache: Path | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="intra-bot-synapse-bench-"))
        self.env = {
            **os.environ,
            "INTRA_BOT_SYNAPSE_RUN": str(self.dir / "run"),
            "INTRA_BOT_SYNAPSE_PORT": str(free_port()),
        }
        if cache is not None:
            self.env["INTRA_BOT_CACHE"] = str(cache)

    def script(self, *args: str) -> tuple[float, float]:
        """(seconds the command took, seconds until Synapse answered, from its log)."""
        start = time.perf_counter()
        done = subprocess.run(
            ["bash", str(SCRIPT), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=1800,
        )
        took = time.perf_counter() - start
        ready = re.search(r"answers after (\d+) s", done.stderr)
        return took, float(ready.group(1)) if ready else float("nan")

    def remove(self) -> None:
        subprocess.run(
            ["bash", str(SCRIPT), "reset"], env=self.env, capture_output=True, check=False
        )
        shutil.rmtree(self.dir, ignore_errors=True)


def summary(label: str, values: list[tuple[float, float]]) -> str:
    totals = [t for t, _ in values]
    answers = [a for _, a in values]
    return (
        f"{label:<34} median {statistics.median(totals):6.1f} s  min {min(totals):6.1f}  "
        f"max {max(totals):6.1f}; Synapse answers after {statistics.median(answers):.0f} s "
        f"(median; {min(answers):.0f}-{max(answers):.0f})  n={len(values)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold-installs", type=int, default=0)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[str, list[tuple[float, float]]] = {"fresh": [], "warm": [], "cold": []}
    for _ in range(args.cold_installs):
        cache = Path(tempfile.mkdtemp(prefix="intra-bot-synapse-cache-"))
        server = Homeserver(cache)
        try:
            results["cold"].append(server.script("up"))
        finally:
            server.remove()
            shutil.rmtree(cache, ignore_errors=True)
    for _ in range(args.rounds):
        server = Homeserver()
        try:
            results["fresh"].append(server.script("up"))
            server.script("down")
            results["warm"].append(server.script("up"))
        finally:
            server.remove()
    for key, label in (
        ("cold", "empty cache (install + fresh up)"),
        ("fresh", "cached venv, fresh run dir"),
        ("warm", "cached venv, same data (restart)"),
    ):
        if results[key]:
            print(summary(label, results[key]), flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
