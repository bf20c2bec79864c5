"""What builds the image and the venvs is pinned: the base image by digest, the build
backend by the lock (the project is installed without build isolation, so pip never fetches
an unpinned setuptools to build it)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_default_base_image_is_pinned_by_digest() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG BASE=(\S+)$", dockerfile, re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", base.group(1))


def test_every_install_of_the_project_uses_the_locked_build_backend() -> None:
    installs = [
        (path, line)
        for path in (ROOT / "Dockerfile", ROOT / "scripts" / "venv")
        for line in path.read_text().replace("\\\n", " ").splitlines()
        if re.search(r"pip install .*--no-deps", line)
    ]
    assert len(installs) == 3, installs  # the image's bot, the clean room's, the dev venv's
    assert all("--no-build-isolation" in line for _, line in installs), installs


def test_the_lock_holds_the_build_backend_pyproject_names() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    backend = pyproject["build-system"]["requires"]
    assert [re.match(r"[A-Za-z0-9_.-]+", item).group() for item in backend] == ["setuptools"]  # type: ignore[union-attr]
    lock = (ROOT / "requirements" / "pip.txt").read_text()
    pinned = re.search(r"^setuptools==(\d+)\.\S* \\\n\s+--hash=sha256:", lock, re.MULTILINE)
    assert pinned is not None, "requirements/pip.txt does not lock setuptools with its hashes"
    assert int(pinned.group(1)) >= 68  # pyproject's setuptools>=68
