"""Test only: ``brain`` whose worker also runs a workflow that wedges it.

``python -m tests.cli.wedge up|worker ...`` is ``brain`` itself (``cli.main:main``) with one
more workflow and activity on its worker, added here rather than by a setting so that no
test hook reaches the production code paths. ``WedgedWorkflow``'s activity touches a file
when it starts, then ignores cancellation and never returns until a release file exists:
what a hung call to a model or a database looks like to the worker. As a local activity it
first fails once, so it is a retrying one, as in the issue that asked for this test. With
``blocking`` it also holds the worker's event loop, as a blocking call made from async code
would.
"""

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.common import RetryPolicy


@dataclass
class Wedge:
    local: bool
    started: str  # touched when an attempt starts
    release: str  # the attempt returns once this exists
    blocking: bool = False  # hold the worker's event loop too, as a blocking call would


@activity.defn
async def wedge(spec: Wedge) -> None:
    # Tiny blocking file calls, harmless in a test activity.
    Path(spec.started).touch()  # noqa: ASYNC240
    if spec.local and activity.info().attempt == 1:
        raise RuntimeError("the first attempt fails, so the local activity retries")
    while spec.blocking and not Path(spec.release).exists():  # noqa: ASYNC240
        time.sleep(0.2)  # noqa: ASYNC251 - the point: nothing else runs on the event loop
    while not Path(spec.release).exists():  # noqa: ASYNC240
        try:
            await asyncio.sleep(0.2)
            if not spec.local:
                activity.heartbeat()
        except asyncio.CancelledError:
            pass  # wedged: a cancel does not stop it


# Not sandboxed: a test workflow whose module is __main__ in the worker's process.
@workflow.defn(sandboxed=False)
class WedgedWorkflow:
    @workflow.run
    async def run(self, spec: Wedge) -> None:
        if spec.local:
            await workflow.execute_local_activity(
                wedge,
                spec,
                start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
            )
        else:
            # The heartbeat timeout lets the next worker retry it soon after this one is gone.
            await workflow.execute_activity(
                wedge,
                spec,
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(seconds=2),
            )


def main() -> None:
    import workers.main as worker_entry
    from cli.main import main as brain

    build = worker_entry.build_activities

    def with_wedge(*args: object, **kwargs: object) -> list[object]:
        return [*build(*args, **kwargs), wedge]  # type: ignore[arg-type]

    worker_entry.WORKFLOWS = (*worker_entry.WORKFLOWS, WedgedWorkflow)
    worker_entry.build_activities = with_wedge  # type: ignore[assignment]
    brain()


if __name__ == "__main__":
    main()
