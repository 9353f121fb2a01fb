"""``brain webhooks add|list|rm|deliveries`` as ops run it: the real command, in a
subprocess, on a SQLite file of its own."""

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

BRAIN = Path(sys.executable).parent / "brain"
PUBLIC = "https://93.184.215.14/hooks"


class Cli:
    def __init__(self, home: Path, **settings: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRAIN_")}
        url = f"sqlite+aiosqlite:///{home / 'brain.db'}"
        self.env = env | {"BRAIN_DATABASE_URL": url, "BRAIN_HOME": str(home)} | settings
        self.home = home

    async def __call__(self, *args: str) -> tuple[int, Any, str]:
        proc = await asyncio.create_subprocess_exec(
            str(BRAIN), "webhooks", *args, env=self.env, cwd=self.home,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode is not None
        return proc.returncode, json.loads(out) if out.strip() else None, err.decode()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


async def test_add_list_deliveries_rm(cli: Cli) -> None:
    code, created, err = await cli(
        "add", "--tenant", "acme", "--url", PUBLIC, "--event", "approval.requested",
        "--event", "run.failed", "--process", "campaign_optimization", "--format", "slack",
    )  # fmt: skip
    assert code == 0, err
    assert created["secret"].startswith("whsec_")
    assert (created["process"], created["format"]) == ("campaign_tuning", "slack")
    assert created["events"] == ["approval.requested", "run.failed"]

    code, listed, _ = await cli("list", "--tenant", "acme")
    assert code == 0 and [s["id"] for s in listed] == [created["id"]]
    assert "secret" not in listed[0]
    code, others, _ = await cli("list", "--tenant", "other")
    assert (code, others) == (0, [])

    code, deliveries, _ = await cli("deliveries", created["id"], "--tenant", "acme")
    assert (code, deliveries) == (0, [])
    code, _, err = await cli("deliveries", created["id"], "--tenant", "other")
    assert code == 1 and '"NotFound"' in err

    code, _, err = await cli("rm", created["id"], "--tenant", "other")
    assert code == 1 and '"NotFound"' in err
    code, removed, _ = await cli("rm", created["id"], "--tenant", "acme")
    assert (code, removed) == (0, {"id": created["id"], "removed": True})
    assert (await cli("list", "--tenant", "acme"))[1] == []


async def test_refusals(tmp_path: Path, cli: Cli) -> None:
    code, _, err = await cli(
        "add", "--tenant", "acme", "--url", "http://10.0.0.1/x", "--event", "run.failed"
    )
    assert code == 1 and '"InvalidSubscription"' in err and "BRAIN_WEBHOOK_ALLOW_PRIVATE" in err
    code, _, err = await cli("add", "--tenant", "acme", "--url", PUBLIC, "--event", "run.done")
    assert code == 2  # not an event type: a bad argument
    allowed = Cli(tmp_path, BRAIN_WEBHOOK_ALLOW_PRIVATE="true")
    code, _, err = await allowed(
        "add", "--tenant", "acme", "--url", "http://10.0.0.1/x", "--event", "run.failed"
    )
    assert code == 0, err
