"""`brain` imports a command's module only when that command runs (cli/lazy.py): `--help`
lists every command from the table without importing one, and `brain status` does not load
FastAPI, SQLAlchemy, the processes or the workflows. Import lists, not timings (those are
`python -m bench.cli`'s)."""

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cli.lazy import load
from cli.main import COMMANDS, app
from tests.cli.conftest import BRAIN

ROOT = Path(__file__).resolve().parents[2]
# Loaded by a command that needs them, never by `brain --help`.
HEAVY = ("temporalio", "sqlalchemy", "fastapi", "httpx", "pydantic", "processes", "hitl")
# Loaded by `brain status` only if it took the slow path (no worker to answer).
NOT_FOR_STATUS = ("sqlalchemy", "fastapi", "httpx", "processes", "hitl", "workflows", "api")


def _imported(*argv: str | Path) -> tuple[set[str], str]:
    """The modules a Python program imported (``PYTHONPROFILEIMPORTTIME``), and its stdout."""
    done = subprocess.run(
        argv,
        cwd=ROOT,
        env=os.environ | {"PYTHONPROFILEIMPORTTIME": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return modules, done.stdout


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_lists_every_command_without_importing_any() -> None:
    modules, out = _imported(BRAIN, "--help")
    assert _top(modules).isdisjoint(HEAVY), sorted(_top(modules) & set(HEAVY))
    ours = {m for m in modules if m.startswith("cli.")}
    assert ours == {"cli.main", "cli.lazy"}, ours
    listed = {
        line.split()[0]: " ".join(line.split()[1:])
        for line in out.split("Commands:", 1)[1].splitlines()
        if line.strip()
    }
    assert listed == {name: lazy.help for name, lazy in COMMANDS.items()}


def test_status_loads_neither_the_api_the_database_nor_the_workflows() -> None:
    modules, _ = _imported(sys.executable, "-c", "import cli.status, temporal.client")
    assert _top(modules).isdisjoint(NOT_FOR_STATUS), sorted(_top(modules) & set(NOT_FOR_STATUS))


def test_every_command_loads_under_its_name_and_shows_its_help() -> None:
    runner = CliRunner()
    for name, lazy in COMMANDS.items():
        command = load(name, lazy)
        assert (command.name, command.short_help) == (name, lazy.help)
        shown = runner.invoke(app, [name, "--help"])
        assert shown.exit_code == 0, (name, shown.output)
        assert f"Usage: brain {name}" in shown.output, shown.output


def test_an_unknown_command_suggests_a_lazy_one() -> None:
    refused = CliRunner().invoke(app, ["statu"])
    assert refused.exit_code == 2
    assert "Did you mean 'status'" in refused.output
