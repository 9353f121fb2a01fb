"""The tuned baseline (issue 24's second reference): the bare baseline as the SDK can best run
it on this machine. The same AI activity, the same wait, the same row written by the same
statement; but the database step is a local activity (no activity task: it runs inside the
workflow task that scheduled it) and each run is started eagerly (``request_eager_start``:
the server hands the first workflow task back in the start's answer, to a worker polling
with the client that started it, instead of through the task queue).

Eager start needs the starting client and the worker in one process: ``python -m
bench.baseline_tuned PORT`` runs the worker and, on PORT, the door the load generator
starts its runs through (``bench/tuned_door.py``), with the worker's own client.
"""

import asyncio
import os
import sys
from datetime import timedelta

from temporalio import workflow

from bench.baseline import ApplyInput, BaselineActivities, BaselineInput, BaselineWorkflow

TASK_QUEUE = "bench-baseline-tuned"


@workflow.defn(name="TunedBaselineWorkflow")
class TunedBaselineWorkflow(BaselineWorkflow):
    @workflow.run
    async def run(self, run_input: BaselineInput) -> str:
        return await super().run(run_input)

    async def apply(self, req: ApplyInput) -> None:
        await workflow.execute_local_activity_method(
            BaselineActivities.apply, req, start_to_close_timeout=timedelta(seconds=60)
        )


if __name__ == "__main__":
    from bench.baseline import run_worker
    from bench.tuned_door import door

    asyncio.run(run_worker(TASK_QUEUE, TunedBaselineWorkflow, door(int(sys.argv[1]))))
    # The SDK's runtime can abort while the interpreter finalizes (sdk-python#300).
    os._exit(0)
