"""The ``brain`` command: run the stack or its parts, start, decide and follow runs, manage
policies, webhooks and Slack.

Each command's module is imported only when that command runs (cli/lazy.py), so this module
imports nothing but Typer: ``brain --help`` answers at once, from the table below.
Configuration comes from ``BRAIN_*`` environment variables and ``.env`` (core/settings.py),
and from the ``brain up`` running on this ``BRAIN_HOME`` (cli/home.py).
"""

import contextlib
import json
import os
import sys

import typer

from cli.lazy import Lazy, LazyGroup

COMMANDS = {
    "up": Lazy("cli.serve:up", "Run everything here: Temporal, Web UI, a worker and the API."),
    "worker": Lazy("cli.serve:worker", "Run a worker against the configured cluster."),
    "api": Lazy("cli.serve:api", "Run the REST API alone."),
    "start": Lazy("cli.runs:start", "Start a process run; print its workflow id and state."),
    "example": Lazy("cli.examples:example", "Print one of a process's example start bodies."),
    "status": Lazy("cli.status:status", "A run's state, proposal, pending approval, decision."),
    "inbox": Lazy("cli.inbox:inbox", "Approvals waiting for a person (--mine: yours)."),
    "runs": Lazy("cli.inbox:runs", "Runs, newest first (--state, --process)."),
    "approve": Lazy("cli.runs:approve", "Approve the pending proposal, optionally with edits."),
    "reject": Lazy("cli.runs:reject", "Reject the pending proposal."),
    "cancel": Lazy("cli.inbox:cancel", "Cancel a run that has not applied yet."),
    "policy": Lazy("cli.policy:policy_app", "Read and change HITL policies."),
    "insights": Lazy("cli.insights:insights", "What the audit log says about each process."),
    "webhooks": Lazy("cli.webhooks:webhooks_app", "Webhook subscriptions and deliveries."),
    "slack": Lazy("cli.slack:slack_app", "Deciding from Slack: the workspace, mapped users."),
    "ops": Lazy("cli.ops:ops_app", "Failed runs: list, replay; verify the audit; patches."),
    "replay-check": Lazy("cli.replay_check:replay_check", "Replay histories: determinism gate."),
    "token": Lazy("cli.tokens:token", "Mint an API token (HS256 with BRAIN_JWT_SECRET)."),
    "whoami": Lazy("cli.credentials:whoami", "Who the CLI's own token says you are."),
    "migrate": Lazy("cli.migrate:migrate", "Bring the database schema up to date, then exit."),
}


class BrainGroup(LazyGroup):
    lazy = COMMANDS


app = typer.Typer(
    name="brain",
    cls=BrainGroup,
    no_args_is_help=True,
    add_completion=False,
    # Plain Click help: Rich's renders every command to list it, and takes longer to load.
    rich_markup_mode=None,
    # A plain traceback: the pretty one is pages long and would print locals (settings).
    pretty_exceptions_enable=False,
)


@app.callback()
def brain() -> None:
    """Durable AI business processes on Temporal, with a human in the loop."""


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    typer.echo(str(code), err=True)
    return 1


def _for_the_operator(exc: Exception) -> bool:
    # Imported only on this path: a command that raised one has loaded them already.
    from core.settings import InvalidSettings
    from core.startup import StartupError

    return isinstance(exc, InvalidSettings | StartupError)


def main() -> None:
    """Console-script entry point.

    Leaves with ``os._exit`` after flushing: a process that used a Temporal client can abort
    while the interpreter finalizes (exit 134, ``PyGILState_Release``;
    temporalio/sdk-python#300) after all its work succeeded. Nothing is left to finalize:
    every command closes its own resources before returning.
    """
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:
        code = 1
        if _for_the_operator(exc):
            # What an operator must fix (a setting, a certificate, a refused connection),
            # said once and without a traceback to bury it; never a setting's value.
            detail = {"error": type(exc).__name__, "detail": str(exc)}
            typer.echo(json.dumps(detail, indent=2), err=True)
        else:
            # typer's hook prints the traceback (without locals).
            sys.excepthook(type(exc), exc, exc.__traceback__)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
