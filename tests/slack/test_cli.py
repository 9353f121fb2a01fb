"""``brain slack workspace set|show|rm`` and ``brain slack map|users|unmap`` as ops run them:
the real command, in a subprocess, on a SQLite file of its own; and ``brain webhooks add
--interactive``."""

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

BRAIN = Path(sys.executable).parent / "brain"
SECRET = "8f14e45fceea167a5a36dedd4bea2543"


class Cli:
    def __init__(self, home: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRAIN_")}
        url = f"sqlite+aiosqlite:///{home / 'brain.db'}"
        self.env = env | {"BRAIN_DATABASE_URL": url, "BRAIN_HOME": str(home)}
        self.home = home

    async def __call__(self, *args: str, **env: str) -> tuple[int, Any, str]:
        proc = await asyncio.create_subprocess_exec(
            str(BRAIN), *args, env=self.env | env, cwd=self.home,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode is not None
        return proc.returncode, json.loads(out) if out.strip() else None, err.decode()


async def test_workspace_and_user_mapping(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    code, ws, err = await cli(
        "slack", "workspace", "set", "--team-id", "T0ACME", "--tenant", "acme",
        BRAIN_SLACK_SIGNING_SECRET=SECRET,
    )  # fmt: skip
    assert code == 0, err
    assert (ws["tenant"], ws["team_id"]) == ("acme", "T0ACME") and "signing_secret" not in ws
    code, _, err = await cli(
        "slack", "workspace", "set", "--team-id", "T0ACME", "--tenant", "other",
        BRAIN_SLACK_SIGNING_SECRET=SECRET,
    )  # fmt: skip
    assert code == 1 and '"SlackTeamTaken"' in err
    code, shown, _ = await cli("slack", "workspace", "show", "--tenant", "acme")
    assert code == 0 and shown["team_id"] == "T0ACME" and SECRET not in json.dumps(shown)

    code, mapped, err = await cli(
        "slack", "map", "--slack-user", "U0ANN", "--subject", "ann",
        "--groups", "finance, legal", "--tenant", "acme",
    )  # fmt: skip
    assert code == 0, err
    assert (mapped["subject"], mapped["groups"]) == ("ann", ["finance", "legal"])
    code, _, err = await cli(
        "slack", "map", "--slack-user", "U0BOB", "--subject", "bob ", "--tenant", "acme"
    )
    assert code == 1 and '"InvalidSlackUser"' in err and '"subject"' in err
    code, users, _ = await cli("slack", "users", "--tenant", "acme")
    assert [(u["slack_user"], u["subject"]) for u in users] == [("U0ANN", "ann")]
    code, users, _ = await cli("slack", "users", "--tenant", "other")
    assert (code, users) == (0, [])

    assert (await cli("slack", "unmap", "--slack-user", "U0ANN", "--tenant", "acme"))[0] == 0
    code, _, err = await cli("slack", "unmap", "--slack-user", "U0ANN", "--tenant", "acme")
    assert code == 1 and '"NotFound"' in err
    assert (await cli("slack", "workspace", "rm", "--tenant", "acme"))[0] == 0
    code, _, err = await cli("slack", "workspace", "show", "--tenant", "acme")
    assert code == 1 and '"NotFound"' in err


async def test_webhooks_add_interactive(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    add = ("webhooks", "add", "--tenant", "acme", "--url", "https://93.184.215.14/hooks")
    code, created, err = await cli(
        *add, "--event", "approval.requested", "--format", "slack", "--interactive"
    )
    assert code == 0, err
    assert (created["format"], created["interactive"]) == ("slack", True)
    code, _, err = await cli(*add, "--event", "approval.requested", "--interactive")
    assert code == 1 and '"interactive"' in err
