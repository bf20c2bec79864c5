"""`scripts/test` leaves nothing in the checkout but .venv: pytest's cache, coverage's data
(child processes' too), bytecode and Hypothesis's storage go to the cache (INTRA_BOT_CACHE).

A copy of the working tree in a git repository of its own, run with this venv: a few tests
that use Hypothesis and start `intra-bot` as a child process, then `git status --ignored`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = [
    "tests/unit/test_answers_properties.py",  # Hypothesis: its database and caches
    "tests/cli/test_cli.py::test_ask_prints_the_reply",  # a child process under coverage
]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return done.stdout


def copy_of_the_checkout(target: Path) -> Path:
    tracked = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, tracked.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "-q")
    git(target, "add", ".")
    git(target, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "copy")
    return target


def test_a_run_of_scripts_test_leaves_the_checkout_as_clean_as_a_clone(tmp_path: Path) -> None:
    checkout = copy_of_the_checkout(tmp_path / "checkout")
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTRA_BOT_", "PYTEST_"))}
    for inherited in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "COVERAGE_FILE"):
        env.pop(inherited, None)  # what scripts/test sets, not what this run had
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    env |= {"INTRA_BOT_CACHE": str(cache), "INTRA_BOT_VENV": str(Path(sys.prefix))}
    run = subprocess.run(
        ["bash", "scripts/test", *SAMPLE, "-q", "-p", "no:randomly"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "3 passed" in run.stdout, run.stdout[-2000:]
    assert git(checkout, "status", "--porcelain", "--ignored") == ""
    assert list(cache.glob("checkouts/*/coverage/.coverage")), sorted(cache.rglob("*"))[:20]
    assert list(cache.glob("checkouts/*/pytest-cache")), sorted(cache.rglob("*"))[:20]
    assert (cache / "hypothesis").is_dir()
    assert (cache / "pycache").is_dir()
