"""`/intra referents` over HTTP as shipped, beside the limit of its stack and beside Slack Bolt.

    python benchmarks/slash_command.py [--rounds 5] [--seconds 5]

Needs `wrk` (Debian package). Four servers, each its own process on CPU 0 (wrk on CPU 1:
1 thread, 32 connections, `--latency`), get the same form POST (`Authorization: Token` and
`token=`) in alternating rounds (bot, nolog, bare, bolt, bot, nolog…), so a neighbour's load
hits all four of a round rather than one whole series:
- bot: the real `python -m bot run`, config.example.toml's defaults (question log on, the
  SQLite store, INFO logs, here to a file) in a temporary directory. Only the Mattermost
  token, the command token, the port and Mattermost's URL, a closed 127.0.0.1 port, come
  from the environment. The adapter retries Mattermost in the background: under one log
  line a second (printed: lines while measured), idle CPU about 1 % of a core (printed),
  against the ~100 % a measured run takes, so neither the log nor the figures suffer.
- nolog: the same `bot run` with `answers.record_questions = false`: what the question log
  costs is bot/nolog.
- bare: one aiohttp POST route returning the bot's reply as fixed bytes.
- bolt: Slack Bolt's AsyncApp on its own aiohttp server, defaults kept (it acks from a task
  and polls for the ack every 10 ms), with no call to Slack (see benchmarks/peers.py), in a
  venv made once from benchmarks/requirements-peers.txt; if it cannot be, "unavailable".
Per server and round: requests/s, p50, p99, and the server's CPU time per request (/proc),
which a neighbour's load moves far less than throughput. A run with a non-2xx answer or a
socket error (e.g. a 2 s timeout) is invalid, its round left out of the medians.
Nothing is written in the checkout.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # nothing written in the checkout, no __pycache__ either

from peers import PATH, Server, Unavailable, free_port, peer_python, start, stop  # noqa: E402

TOKEN = "benchtoken0000000000000000"
EXPECTED = "Les référents intras"  # the start of the bot's reply to `/intra referents`
TARGETS = (
    "median bot/nolog >= 0.90, bot/bare >= 0.60, bot/bolt >= 5.0, bot p99 <= 10 ms (32 connections)"
)
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
HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Token {TOKEN}"}
LUA = f'wrk.method = "POST"\nwrk.body = "{FORM}"\n' + "".join(
    f'wrk.headers["{name}"] = "{value}"\n' for name, value in HEADERS.items()
)


@dataclass(frozen=True)
class Run:
    rate: float  # requests per second
    p50: float  # ms
    p99: float  # ms
    cpu_us: float  # the server's CPU time per request
    count: int  # responses wrk counted
    problem: str  # "" when every answer was a 2xx and no socket failed


def post(port: int) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{PATH}", FORM.encode(), HEADERS, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status), bytes(response.read())


def start_bot(work: Path, *, record_questions: bool = True) -> Server:
    """The real `bot run` in `work` (its store there); `record_questions=False` only for the
    reference that tells what the question log costs."""
    work.mkdir(exist_ok=True)
    config = work / "config.toml"
    shutil.copy(ROOT / "config.example.toml", config)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTRA_BOT_")}
    port = free_port()
    env.update(
        PYTHONPATH=str(ROOT),  # the checkout's bot/, whatever the venv points at
        PYTHONDONTWRITEBYTECODE="1",
        INTRA_BOT_MATTERMOST__TOKEN="bench-bot-token",
        INTRA_BOT_HTTP__COMMAND_TOKENS=TOKEN,
        INTRA_BOT_HTTP__PORT=str(port),
        INTRA_BOT_MATTERMOST__URL=f"http://127.0.0.1:{free_port()}",  # nothing listens there
    )
    if not record_questions:
        env["INTRA_BOT_ANSWERS__RECORD_QUESTIONS"] = "false"
    command = [sys.executable, "-m", "bot", "run", "--config", str(config)]
    bot = start("bot", command, work / "bot.log", port, post, cwd=work, env=env)
    text = bot.reply.decode()
    if EXPECTED not in text:
        stop(bot)
        raise Unavailable(f"the bot answered 200 but not with « {EXPECTED} »: {text[:300]}")
    return bot


def start_peer(name: str, python: str, work: Path) -> Server:
    port = free_port()
    argv = [python, str(HERE / "peers.py"), name, "--port", str(port), "--reply"]
    return start(name, [*argv, str(work / "reply.json")], work / f"{name}.log", port, post)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(server: Server, seconds: int, script: Path) -> Run:
    url = f"http://127.0.0.1:{server.port}{PATH}"
    argv = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", "-s"]
    before = cpu_seconds(server.process.pid)
    out = subprocess.run([*argv, str(script), url], check=True, capture_output=True, text=True)
    cpu = cpu_seconds(server.process.pid) - before
    non2xx = re.search(r"Non-2xx or 3xx responses: *(\d+)", out.stdout)  # absent when none
    sockets = re.search(r"Socket errors: (.*)", out.stdout)  # absent when none
    problems = [f"{non2xx.group(1)} non-2xx"] if non2xx else []
    problems += [f"socket errors {sockets.group(1)}"] if sockets else []
    count = int(_find(out.stdout, r"(\d+) requests in"))
    rate = float(_find(out.stdout, r"Requests/sec: *([\d.]+)"))
    p50, p99 = (_ms(out.stdout, which) for which in ("50%", "99%"))
    return Run(rate, p50, p99, cpu / max(count, 1) * 1e6, count, ", ".join(problems))


def _find(out: str, pattern: str) -> str:
    match = re.search(pattern, out)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return match.group(1)


def _ms(out: str, which: str) -> float:
    value, unit = re.search(rf"{re.escape(which)}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def ratio(run: dict[str, Run], peer: str) -> float | None:
    """bot/peer throughput in one round; None when the peer is missing or a run invalid."""
    if peer not in run or run["bot"].problem or run[peer].problem:
        return None
    return run["bot"].rate / run[peer].rate


def target(label: str, values: list[float], unit: str, ok: Callable[[float], bool]) -> None:
    if not values:
        print(f"  {label}: n/a (no valid round)")
        return
    low, mid, high = min(values), statistics.median(values), max(values)
    spread = f"min {low:.2f} – max {high:.2f}{unit}, {len(values)} rounds"
    print(f"  {label}: median {mid:.2f}{unit} ({spread})  {'PASS' if ok(mid) else 'FAIL'}")


def benchmark(rounds: int, seconds: int, work: Path) -> None:
    script = work / "form.lua"
    script.write_text(LUA)
    servers: dict[str, Server] = {}
    missing: dict[str, str] = {}
    try:
        servers["bot"] = bot = start_bot(work)
        idle = cpu_seconds(bot.process.pid)
        time.sleep(3)
        idle = (cpu_seconds(bot.process.pid) - idle) / 3
        (work / "reply.json").write_bytes(bot.reply)
        servers["nolog"] = start_bot(work / "nolog", record_questions=False)
        servers["bare"] = start_peer("bare", sys.executable, work)
        try:
            servers["bolt"] = start_peer("bolt", str(peer_python()), work)
        except (Unavailable, OSError) as error:
            missing["bolt"] = str(error)
        print(f"bot idle (Mattermost unreachable, retried): {idle * 100:.2f} % of a core")
        print("reply bytes: " + ", ".join(f"{n} {len(s.reply)}" for n, s in servers.items()))
        warm = {name: wrk(server, 2, script) for name, server in servers.items()}  # not measured
        log_lines = len((work / "bot.log").read_text(errors="replace").splitlines())
        answered = 1 + warm["bot"].count + measure(servers, missing, rounds, seconds, script)
        measured_log = (work / "bot.log").read_text(errors="replace").splitlines()[log_lines:]
    finally:
        for server in servers.values():
            stop(server)
    levels = [m.group(1) for m in map(re.compile(r"level=(\w+)").search, measured_log) if m]
    counted = ", ".join(f"{levels.count(lv)} {lv}" for lv in sorted(set(levels)))
    print(f"bot log while measured: {len(measured_log)} lines ({counted or 'none'})")
    try:  # the question log was on: one question per answer (wrk misses those in flight)
        with sqlite3.connect(work / "intra-bot.sqlite3") as db:
            rows = db.execute("SELECT sum(times) FROM questions_asked").fetchone()[0] or 0
        print(f"questions in the bot's store once stopped: {rows:,} for {answered:,} answers")
    except sqlite3.Error as error:
        print(f"questions in the bot's store: unknown ({error})")


def measure(
    servers: dict[str, Server], missing: dict[str, str], rounds: int, seconds: int, script: Path
) -> int:
    """Runs the rounds, prints them and the targets; the bot's answers counted by wrk."""
    runs: list[dict[str, Run]] = []
    for number in range(1, rounds + 1):
        runs.append({name: wrk(server, seconds, script) for name, server in servers.items()})
        print(f"\nround {number}   {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU µs/req':>11}")
        for name, run in runs[-1].items():
            check = f"INVALID: {run.problem}" if run.problem else "ok"
            row = f"{run.rate:>11,.0f} {run.p50:>8.2f} {run.p99:>8.2f} {run.cpu_us:>11.0f}"
            print(f"  {name:<6} {row}  {check}")
        for name, reason in missing.items():
            print(f"  {name:<6} unavailable: {reason.splitlines()[0]}")
        pairs = ((peer, ratio(runs[-1], peer)) for peer in ("nolog", "bare", "bolt"))
        print(
            "  " + "   ".join(f"bot/{p} " + ("n/a" if r is None else f"{r:.2f}") for p, r in pairs)
        )
    nolog, bare, bolt = (
        [r for r in (ratio(run, peer) for run in runs) if r is not None]
        for peer in ("nolog", "bare", "bolt")
    )
    print(f"\ntargets: {TARGETS}")
    target("bot/nolog throughput (the question log's cost)", nolog, "", lambda m: m >= 0.90)
    target("bot/bare throughput", bare, "", lambda median: median >= 0.60)
    if "bolt" in missing:
        print(f"  bot/bolt throughput: unavailable ({missing['bolt'].splitlines()[0]})")
    else:
        target("bot/bolt throughput", bolt, "", lambda median: median >= 5.0)
    p99 = [run["bot"].p99 for run in runs if not run["bot"].problem]
    target("bot p99", p99, " ms", lambda median: median <= 10.0)
    return sum(run["bot"].count for run in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of bot, bare, bolt")
    parser.add_argument("--seconds", type=int, default=5, help="length of each run")
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds < 1:
        parser.error("--rounds and --seconds: at least 1")
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        parser.error("needs wrk and taskset (apt-get install wrk util-linux)")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # cleans up as Ctrl-C does
    before = os.getloadavg()[0]
    print(f"{args.rounds} rounds of {args.seconds} s; {os.cpu_count()} CPUs, load {before:.2f}")
    try:
        with tempfile.TemporaryDirectory(prefix="intra-bot-bench-") as work:
            benchmark(args.rounds, args.seconds, Path(work))
    except Unavailable as error:
        print(f"cannot benchmark: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    print(f"load average (1 min): {before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
