"""scripts/clean-check, CI's last word on the checkout: in a throw-away git repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "clean-check"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed clone-like tree: the script, a tracked file, the project's .gitignore."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy2(SCRIPT, repo / "scripts" / "clean-check")
    shutil.copy2(SCRIPT.parents[1] / ".gitignore", repo / ".gitignore")
    (repo / "README.md").write_text("hello\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").write_text("")
    return repo


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")


def check(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(repo / "scripts" / "clean-check")],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )


def test_a_fresh_clone_with_its_venv_is_clean(repo: Path) -> None:
    result = check(repo)
    assert result.returncode == 0, result.stderr
    assert "the checkout is clean" in result.stdout


def test_a_venv_that_is_a_link_is_allowed_too(repo: Path) -> None:
    shutil.rmtree(repo / ".venv")
    (repo / ".venv").symlink_to(repo.parent)
    assert check(repo).returncode == 0


@pytest.mark.parametrize(
    ("make", "listed"),
    [
        (lambda r: (r / "matrix-recovery-key.txt").write_text("k"), "!! matrix-recovery-key.txt"),
        (lambda r: (r / "notes.txt").write_text("x"), "?? notes.txt"),
        (lambda r: (r / "README.md").write_text("changed\n"), " M README.md"),
        (lambda r: (r / "intra-bot.sqlite3-wal").write_text(""), "!! intra-bot.sqlite3-wal"),
        (lambda r: touch(r / ".pytest_cache" / "README.md"), "!! .pytest_cache/"),
        (lambda r: touch(r / "README.md.d" / "__pycache__" / "x.pyc"), "!! README.md.d/"),
        (
            lambda r: touch(r / "intra-bot-secrets" / "matrix-recovery-key.txt"),
            "!! intra-bot-secrets/",
        ),
        (lambda r: (r / ".coverage").write_text(""), "!! .coverage"),
    ],
)
def test_anything_else_fails_and_is_listed(repo: Path, make: object, listed: str) -> None:
    make(repo)  # type: ignore[operator]
    result = check(repo)
    assert result.returncode == 1
    assert f"  {listed}" in result.stderr.splitlines(), result.stderr
    assert "the checkout is clean" not in result.stdout
