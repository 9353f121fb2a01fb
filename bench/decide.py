"""2 and 3. Start latency on an idle stack, then decision latency on the runs it started:
Brain's REST approve against the baseline's Update and Signal (and the tuned baseline's
Update), one decision at a time. The parked runs' histories, before their decision, are the
park path's hops; after it, the decide path's."""

from temporalio.client import WorkflowHandle

from bench import breakdown
from bench.load import Baseline, BrainApi, TunedBaseline
from bench.scenarios import DECIDE_TENANT, Counted, Sizes, result_of
from bench.stack import Stack
from bench.stats import now, summary_ms


async def start_and_decide(
    stack: Stack, api: BrainApi, baseline: Baseline, tuned: TunedBaseline, sizes: Sizes
) -> tuple[dict, dict]:
    n = sizes.decisions
    rest_starts: list[float] = []
    sdk_starts: list[float] = []
    brain_ids: list[str] = []
    bare_update: list[WorkflowHandle] = []
    bare_signal: list[WorkflowHandle] = []
    # Started one at a time: the start latency of an idle system, not of a queue.
    for _ in range(n):
        wid, elapsed = await api.start(DECIDE_TENANT)
        rest_starts.append(elapsed)
        brain_ids.append(wid)
        for group in (bare_update, bare_signal):
            handle, elapsed = await baseline.start(wait_for_decision=True)
            sdk_starts.append(elapsed)
            group.append(handle)
    # The tuned baseline's after the others: its database work while parking counted apart.
    async with Counted(stack) as tuned_parking:
        tuned_update = [(await tuned.start(wait_for_decision=True))[0] for _ in range(n)]
        for handle in tuned_update:
            await tuned.wait_parked(handle)
    for wid in brain_ids:
        await api.wait_parked(DECIDE_TENANT, wid)
    for handle in (*bare_update, *bare_signal):
        await baseline.wait_parked(handle)
    # Each run's history up to parking, once nothing is in flight.
    parked_hops = {
        "brain": await breakdown.hops_of(stack.client, brain_ids, settled=True),
        "baseline": await breakdown.hops_of(
            stack.client, [h.id for h in bare_update], settled=True
        ),
        "tuned": await breakdown.hops_of(stack.client, [h.id for h in tuned_update], settled=True),
    }

    brain_lat: list[float] = []
    brain_rest: list[float] = []
    update_lat: list[float] = []
    signal_lat: list[float] = []
    tuned_lat: list[float] = []
    # Interleaved, one decision at a time: each path sees the same background. The API and
    # Brain's worker count Brain's database work, the baseline's worker the baseline's.
    async with Counted(stack) as counted:
        for i in range(n):
            t0 = now()
            brain_rest.append(await api.approve(DECIDE_TENANT, brain_ids[i]))
            result = await result_of(stack.client.get_workflow_handle(brain_ids[i]))
            brain_lat.append(now() - t0)
            if result["state"] != "completed":
                raise RuntimeError(f"{brain_ids[i]} ended {result['state']}")

            t0 = now()
            await baseline.decide_by_update(bare_update[i])
            await result_of(bare_update[i])
            update_lat.append(now() - t0)

            t0 = now()
            await baseline.decide_by_signal(bare_signal[i])
            await result_of(bare_signal[i])
            signal_lat.append(now() - t0)

            t0 = now()
            await tuned.decide_by_update(tuned_update[i])
            await result_of(tuned_update[i])
            tuned_lat.append(now() - t0)
    stack.check()
    starts = {"brain_rest": summary_ms(rest_starts), "baseline_sdk": summary_ms(sdk_starts)}
    decisions = {
        "brain_rest_approve": summary_ms(brain_lat),
        "brain_rest_approve_response": summary_ms(brain_rest),
        "baseline_update": summary_ms(update_lat),
        "baseline_signal": summary_ms(signal_lat),
        "tuned_update": summary_ms(tuned_lat),
        # Per decision: Brain's REST approve; the baseline's Update and Signal together.
        "database": {
            **counted.per_run(n, 2 * n),
            "tuned": counted.side("tuned", n),
        },
        # From the history, after the run woke up for its decision.
        "history": {
            "brain_rest_approve": await breakdown.mean(stack.client, brain_ids, from_decision=True),
            "baseline_update": await breakdown.mean(
                stack.client, [h.id for h in bare_update], from_decision=True
            ),
            "baseline_signal": await breakdown.mean(
                stack.client, [h.id for h in bare_signal], from_decision=True
            ),
            "tuned_update": await breakdown.mean(
                stack.client, [h.id for h in tuned_update], from_decision=True
            ),
        },
        # The park path, from the same runs before their decision.
        "parked_hops": parked_hops,
        "tuned_park_database": tuned_parking.side("tuned", n),
    }
    return starts, decisions
