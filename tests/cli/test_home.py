"""``BRAIN_HOME/stack.json`` (cli/home.py) and the API target built from it
(cli/api_client.py), without a stack: what a command reads, in which order, and what it
refuses."""

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer

from cli import api_client, home
from core.settings import get_settings

STACK = {
    "pid": os.getpid(),
    "started_at": "2026-12-06T10:00:00Z",
    "temporal_address": "127.0.0.1:27233",
    "temporal_namespace": "default",
    "task_queue": "brain",
    "database_url": "sqlite+aiosqlite:////somewhere/brain.db",
    "redis_url": "redis://127.0.0.1:6379/3",
    "web_ui_url": "http://127.0.0.1:28233",
    "api_url": "http://127.0.0.1:28001/api/brain",
    "tenant": "local",
    "token": "home-token",
    "token_expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    "webhook_allow_private": True,
}


def _clear() -> None:
    get_settings.cache_clear()
    home.settings.cache_clear()
    home.stack.cache_clear()


@pytest.fixture
def brain_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A BRAIN_HOME of its own, and no other BRAIN_* variable (nor a .env) in the way."""
    for name in list(os.environ):
        if name.startswith("BRAIN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BRAIN_HOME", str(tmp_path / "home"))
    _clear()
    yield tmp_path / "home"
    monkeypatch.undo()
    _clear()


def _write(home_dir: Path, **changes: object) -> Path:
    return home.write(home_dir, home.Stack.model_validate(STACK | changes))


def _refusal(capsys: pytest.CaptureFixture[str], call: object) -> dict[str, str]:
    with pytest.raises(typer.Exit) as exited:
        assert callable(call)
        call()
    assert exited.value.exit_code == 1
    refused: dict[str, str] = json.loads(capsys.readouterr().err)
    return refused


def test_the_file_is_private_and_read_back(brain_home: Path) -> None:
    path = _write(brain_home)
    assert path == brain_home / "stack.json"
    assert path.stat().st_mode & 0o777 == 0o600
    found = home.read(brain_home)
    assert found is not None and found.temporal_address == "127.0.0.1:27233"
    assert json.loads(path.read_text())["started_at"] == "2026-12-06T10:00:00Z"


def test_a_file_left_by_a_stack_that_is_gone_is_ignored(brain_home: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    _write(brain_home, pid=gone.pid)
    assert home.read(brain_home) is None
    assert home.settings().temporal_address == "127.0.0.1:7233"  # the default


def test_a_stack_removes_only_its_own_file(brain_home: Path) -> None:
    _write(brain_home, pid=os.getpid())
    home.remove(brain_home, os.getpid() + 1)  # another brain up's: kept
    assert (brain_home / "stack.json").exists()
    home.remove(brain_home, os.getpid())
    assert not (brain_home / "stack.json").exists()


def test_brain_variables_win_over_the_file_and_the_file_over_defaults(
    brain_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(brain_home)
    settings = home.settings()
    assert settings.temporal_address == "127.0.0.1:27233"
    assert settings.database_url == STACK["database_url"]
    assert settings.redis_url == STACK["redis_url"]
    assert settings.webhook_allow_private is True
    assert settings.jwt_audience is None  # not the file's to say

    monkeypatch.setenv("BRAIN_TEMPORAL_ADDRESS", "temporal.example:7233")
    monkeypatch.setenv("BRAIN_WEBHOOK_ALLOW_PRIVATE", "false")
    _clear()
    settings = home.settings()
    assert settings.temporal_address == "temporal.example:7233"
    assert settings.webhook_allow_private is False
    assert settings.task_queue == "brain" and settings.database_url == STACK["database_url"]


def test_the_api_target_is_the_homes_with_its_token(brain_home: Path) -> None:
    _write(brain_home)
    target = api_client.target(home.settings())
    assert (target.url, target.token) == ("http://127.0.0.1:28001/api/brain", "home-token")


def test_the_callers_own_token_wins_and_may_come_from_a_file(
    brain_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(brain_home)
    token_file = brain_home.parent / "token"
    token_file.write_text("file-token\n")
    monkeypatch.setenv("BRAIN_TOKEN_FILE", str(token_file))
    _clear()  # settings are read once per command
    assert api_client.target(home.settings()).token == "file-token"
    monkeypatch.setenv("BRAIN_TOKEN", "env-token")
    _clear()
    assert api_client.target(home.settings()).token == "env-token"


def test_the_local_token_never_goes_to_another_api(
    brain_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(brain_home)
    monkeypatch.setenv("BRAIN_API_URL", "https://brain.example/api/brain")
    _clear()
    refused = _refusal(capsys, lambda: api_client.target(home.settings()))
    assert refused["error"] == "NoApiToken" and "BRAIN_TOKEN" in refused["detail"]
    monkeypatch.setenv("BRAIN_TOKEN", "mine")
    _clear()
    target = api_client.target(home.settings())
    assert (target.url, target.token) == ("https://brain.example/api/brain", "mine")


def test_no_api_and_an_expired_local_token_are_said_plainly(
    brain_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = _refusal(capsys, lambda: api_client.target(home.settings()))
    assert refused["error"] == "NoApi" and "brain up" in refused["detail"]

    _write(brain_home, token_expires_at="2026-01-01T00:00:00Z")
    _clear()
    refused = _refusal(capsys, lambda: api_client.target(home.settings()))
    assert refused["error"] == "NoApiToken" and "expired" in refused["detail"]

    _write(brain_home, api_url=None, token=None, token_expires_at=None)  # --no-api
    _clear()
    refused = _refusal(capsys, lambda: api_client.target(home.settings()))
    assert refused["error"] == "NoApi"
