"""The README stays true: every setting is in its settings table, every process in its
default-policies table, its links resolve, and its "REST API in five minutes" runs, snippet by
snippet, against a real `brain up` (free ports, a temporary BRAIN_HOME, the token taken from
the banner's own export line)."""

import asyncio
import re
import shutil
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio

from core.settings import Settings
from processes import registry
from tests.cli.conftest import clean_env
from tests.cli.up import brain_up as running_brain_up
from tests.readme.snippets import json_documents, script, snippets

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SNIPPETS_TIMEOUT = 180


def _section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _rows(section: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]


def _shown_default(value: Any) -> str | None:
    """How the table writes a plain default; None for those it describes in words."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int | Path) or (isinstance(value, str) and value):
        return str(value)
    return None


def test_every_setting_is_in_the_readme_with_its_default() -> None:
    rows = {
        name: row
        for row in _rows(_section("Settings"))
        for name in re.findall(r"`(BRAIN_[A-Z0-9_]+)`", row[0])
    }
    for field, info in Settings.model_fields.items():
        variable = f"BRAIN_{field.upper()}"
        assert variable in rows, f"{variable} is missing from the README's settings table"
        _, default, meaning = rows[variable]
        assert default and meaning, f"{variable}: say its default and what it means"
        shown = _shown_default(info.default)
        if shown is not None:
            assert f"`{shown}`" in default, f"{variable}: the default is `{shown}`"


def test_the_default_policies_table_says_what_the_definitions_say() -> None:
    """Every row is true of its process. A process added later needs no row (adding one
    edits no shared file): `brain policy list` and GET /workflows/policies list them all."""
    rows = {row[0].strip("`"): row for row in _rows(_section("Processes and their defaults"))}
    by_name = {d.name: d for d in registry.definitions()}
    assert set(rows) <= set(by_name), f"not processes: {sorted(set(rows) - set(by_name))}"
    for name, row in rows.items():
        d = by_name[name]
        hitl = "on" if d.default_policy.hitl_enabled else "off"
        assert row[2].startswith(hitl), f"{d.name}: HITL is {hitl} by default"
        assert row[3] == f"{d.default_policy.confidence_threshold:.2f}", d.name
        for alias in d.aliases:
            assert f"`{alias}`" in row[1], f"{d.name}: alias {alias}"


def test_the_readmes_relative_links_resolve() -> None:
    for target in re.findall(r"\]\((?!https?:|#)([^)#\s]+)", README.read_text()):
        assert (ROOT / target).exists(), f"the README links to {target}, which does not exist"
    assert "examples/" not in README.read_text()  # the definitions hold the examples now


# --- the five minutes, against a live stack ------------------------------------------------


def _one(docs: list[Any]) -> Any:
    assert len(docs) == 1, docs
    return docs[0]


Seen = dict[str, list[Any]]


def _health(docs: list[Any], _: Seen) -> None:
    assert _one(docs)["status"] == "ok"


def _start(docs: list[Any], _: Seen) -> None:
    started = _one(docs)
    assert (started["process"], started["state"]) == ("lead_scoring", "running")


def _inbox(docs: list[Any], seen: Seen) -> None:
    [mine] = [d for d in docs if d["workflow_id"] == seen["start"][0]["workflow_id"]]
    assert mine["confidence"] < mine["threshold"] and mine["proposal"]["tier"] == "cold"


def _approve(docs: list[Any], _: Seen) -> None:
    decision = _one(docs)
    assert (decision["action"], decision["channel"]) == ("approve", "api")
    assert decision["edits"] == {"score": 55} and decision["final_proposal"]["tier"] == "warm"


def _reject(docs: list[Any], _: Seen) -> None:
    decision, state = docs[-2:]
    assert (decision["action"], decision["channel"], state) == ("reject", "api", "rejected")


def _audit(docs: list[Any], _: Seen) -> None:
    entry = _one(docs)
    assert (entry["decision"], entry["channel"]) == ("approve", "api")
    assert entry["edits"] == {"score": 55}


def _policies(docs: list[Any], _: Seen) -> None:
    off, auto, on, timeout = docs
    assert off["hitl_enabled"] is False and on["hitl_enabled"] is True
    assert (auto["state"], auto["channel"]) == ("completed", "auto")
    assert timeout["approval_timeout_seconds"] == 3600


# The readme-test blocks, in the README's order, and what their answers must say.
CHECKS: dict[str, Callable[[list[Any], Seen], None]] = {
    "health": _health,
    "start": _start,
    "inbox": _inbox,
    "approve": _approve,
    "reject": _reject,
    "audit": _audit,
    "policies": _policies,
}


@pytest_asyncio.fixture
async def brain_up(tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """`brain up` on free ports: the banner's export line and the environment to use (the
    CLI in the snippets finds this stack through its home, BRAIN_HOME)."""
    env = clean_env(home=str(tmp_path / ".brain"), redis_url="")
    async with running_brain_up(tmp_path, env) as up:
        yield up.export(), env


async def test_the_rest_api_in_five_minutes_runs_as_written(
    brain_up: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    assert shutil.which("jq") and shutil.which("curl"), "the README's snippets use curl and jq"
    blocks = snippets(README.read_text())
    assert [b.name for b in blocks] == list(CHECKS), "a readme-test block without a check"
    export, env = brain_up
    out = tmp_path / "out"
    out.mkdir()
    work = tmp_path / "repo"  # where a reader runs them: `.venv/bin/brain` is there
    work.mkdir()
    (work / ".venv").symlink_to(Path(sys.prefix))
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", script(blocks, export, out),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=work,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), SNIPPETS_TIMEOUT)
    failed = (out / "current").read_text().strip()
    if proc.returncode != 0:
        printed = (out / f"{failed}.out").read_text() if failed != "done" else ""
        raise AssertionError(f"snippet {failed!r} failed: {err.decode()}{printed}")
    assert failed == "done"
    seen: dict[str, list[Any]] = {}
    for block in blocks:
        seen[block.name] = json_documents((out / f"{block.name}.out").read_text())
        CHECKS[block.name](seen[block.name], seen)
