"""The plugin as a user installs it: ``pip install`` of its project, here into a directory of
its own (``--target``) put on ``PYTHONPATH`` of the processes that should see it, so the
test environment outside them stays as it was (the rest of the suite knows five processes).

Built from a copy: pip builds in the source tree, and two xdist workers must not share it.
Offline: ``--no-index`` and ``--no-build-isolation`` (setuptools comes with the venv)."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).parent / "brain-returns"
NAME = "returns_triage"
TABLE = "return_decisions"
ROOT = Path(__file__).resolve().parents[2]


def install(into: Path) -> Path:
    """Install the plugin under ``into``; return the directory to put on ``PYTHONPATH``."""
    source, target = into / "src", into / "site"
    shutil.copytree(PROJECT, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-index", "--no-build-isolation", "--target", str(target), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return target


def env_with(site: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (the test's environment by default) with the plugin importable."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield install(tmp_path_factory.mktemp("plugin"))


def run_probe(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tests.plugins.probe`` with the plugin installed (see probe.py)."""
    return subprocess.run(
        [sys.executable, "-m", "tests.plugins.probe", *args],
        env=env_with(site), cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
