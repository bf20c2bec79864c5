"""Slash-command throughput and latency on one core at 32 connections, side by side
with a bare aiohttp handler returning a fixed JSON (the limit of this stack).

    python benchmarks/slash_command.py [--rounds 5] [--seconds 5]

Needs `wrk` (Debian package). The server is pinned to CPU 0 and wrk to CPU 1.
Rounds alternate (bare, then the bot, `--rounds` times): one ratio per pair, taken
moments apart, so a neighbour's load hits both sides of a pair rather than one whole
series. The result is the median ratio, with its min and max; a single sequential pair
gave 54 % to 97 % on the same code depending on the machine's load. Each round also
prints the server's CPU time per request (/proc), which a neighbour's load moves much less.
Targets (issue 11): median ratio >= 75 % of the bare throughput, p99 <= 10 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from serve_command import TOKEN  # noqa: E402

FORM = urlencode(
    {
        "token": TOKEN,
        "team_id": "teamid00000000000000000000",
        "team_domain": "betagouv",
        "channel_id": "channelid00000000000000000",
        "channel_name": "domaine-intrapreneurs",
        "user_id": "userid00000000000000000000",
        "user_name": "alice.intra",
        "command": "/intra",
        "text": "referents",
        "trigger_id": "x",
        "response_url": "http://127.0.0.1:8065/hooks/commands/x",
    }
)
LUA = f"""
wrk.method = "POST"
wrk.body = "{FORM}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Token {TOKEN}"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int) -> None:
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"server on {port} did not start")


@dataclass(frozen=True)
class Run:
    rate: float  # requests per second (wall)
    p50: float  # ms
    p99: float  # ms
    cpu_us: float  # the server's CPU time per request, in microseconds


def measure(mode: str, seconds: int, script: Path) -> Run:
    port = free_port()
    server = subprocess.Popen(
        [
            "taskset",
            "-c",
            "0",
            sys.executable,
            str(HERE / "serve_command.py"),
            mode,
            "--port",
            str(port),
        ]
    )
    try:
        wait_port(port)
        url = f"http://127.0.0.1:{port}/mattermost/command"
        warm = ["taskset", "-c", "1", "wrk", "-t1", "-c32", "-d2s", "-s", str(script), url]
        subprocess.run(warm, check=True, capture_output=True)
        run = [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t1",
            "-c32",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ]
        cpu_before = _cpu_seconds(server.pid)
        out = subprocess.run(run, check=True, capture_output=True, text=True).stdout
        cpu = _cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait()
    if "Non-2xx" in out:
        raise SystemExit(f"{mode}: errors during the run:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return Run(rate, _percentile(out, "50%"), _percentile(out, "99%"), cpu / count * 1e6)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(out: str, which: str) -> float:
    match = re.search(rf"{re.escape(which)}\s+([\d.]+)(us|ms|s)", out)
    assert match, out
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5, help="pairs of runs (at least 5)")
    parser.add_argument("--seconds", type=int, default=5, help="length of each run")
    args = parser.parse_args()
    if args.rounds < 5:
        parser.error("--rounds: at least 5, or the median says little")
    # A busy machine moves every figure: say how busy it was (load over the last minute).
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as scratch:  # the wrk script, removed afterwards
        script = Path(scratch) / "form.lua"
        script.write_text(LUA)
        ratios, p99s = run_rounds(args.rounds, args.seconds, script)
    print(
        f"ratio of the bare throughput: median {statistics.median(ratios):.0%} "
        f"(min {min(ratios):.0%}, max {max(ratios):.0%}; target >= 75 %); "
        f"bot p99: median {statistics.median(p99s):.2f} ms (max {max(p99s):.2f} ms; target <= 10 ms)"
    )


def run_rounds(rounds: int, seconds: int, script: Path) -> tuple[list[float], list[float]]:
    """Alternate bare and bot runs; one throughput ratio and one bot p99 per round.

    CPU per request is printed too: on a shared machine the throughput follows the
    neighbours' load, while the server's own CPU time per request moves much less."""
    print(
        f"{'round':>5} {'bare req/s':>11} {'bot req/s':>10} {'ratio':>6} {'bot p50':>8} "
        f"{'bot p99':>8} {'bare CPU/req':>13} {'bot CPU/req':>12} {'CPU ratio':>9}"
    )
    ratios: list[float] = []
    p99s: list[float] = []
    cpu_ratios: list[float] = []
    for number in range(1, rounds + 1):
        bare = measure("bare", seconds, script)
        ours = measure("bot", seconds, script)
        ratios.append(ours.rate / bare.rate)
        p99s.append(ours.p99)
        cpu_ratios.append(bare.cpu_us / ours.cpu_us)
        print(
            f"{number:>5} {bare.rate:>11,.0f} {ours.rate:>10,.0f} {ratios[-1]:>6.0%} "
            f"{ours.p50:>6.2f}ms {ours.p99:>6.2f}ms {bare.cpu_us:>11.0f}us {ours.cpu_us:>10.0f}us "
            f"{cpu_ratios[-1]:>9.0%}"
        )
    print(
        f"CPU per request, bare / bot: median {statistics.median(cpu_ratios):.0%} "
        f"(min {min(cpu_ratios):.0%}, max {max(cpu_ratios):.0%})"
    )
    return ratios, p99s


if __name__ == "__main__":
    main()
