"""Slash-command throughput and latency on one core at 32 connections, side by side
with a bare aiohttp handler returning a fixed JSON (the limit of this stack).

    python benchmarks/slash_command.py [--rounds 5] [--seconds 5]

Needs `wrk` (Debian package). The server is pinned to CPU 0 and wrk to CPU 1.
Rounds alternate (bare, then the bot, `--rounds` times): one ratio per pair, taken
moments apart, so a neighbour's load hits both sides of a pair rather than one whole
series. The result is the median ratio, with its min and max; a single sequential pair
gave 54 % to 97 % on the same code depending on the machine's load.
Targets (issue 11): median ratio >= 75 % of the bare throughput, p99 <= 10 ms.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
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


def measure(mode: str, seconds: int, script: Path) -> tuple[float, float, float]:
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
        out = subprocess.run(run, check=True, capture_output=True, text=True).stdout
    finally:
        server.terminate()
        server.wait()
    if "Non-2xx" in out:
        raise SystemExit(f"{mode}: errors during the run:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rate, _percentile(out, "50%"), _percentile(out, "99%")


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
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    print(
        f"{'round':>5} {'bare req/s':>11} {'bot req/s':>10} {'ratio':>6} {'bot p50':>8} {'bot p99':>8}"
    )
    ratios: list[float] = []
    p99s: list[float] = []
    for number in range(1, args.rounds + 1):
        bare = measure("bare", args.seconds, Path(script.name))
        ours = measure("bot", args.seconds, Path(script.name))
        ratios.append(ours[0] / bare[0])
        p99s.append(ours[2])
        print(
            f"{number:>5} {bare[0]:>11,.0f} {ours[0]:>10,.0f} {ratios[-1]:>6.0%} "
            f"{ours[1]:>7.2f}ms {ours[2]:>7.2f}ms"
        )
    print(
        f"ratio of the bare throughput: median {statistics.median(ratios):.0%} "
        f"(min {min(ratios):.0%}, max {max(ratios):.0%}; target >= 75 %); "
        f"bot p99: median {statistics.median(p99s):.2f} ms (max {max(p99s):.2f} ms; target <= 10 ms)"
    )


if __name__ == "__main__":
    main()
