"""``GET /metrics``: Prometheus exposition of the process's registry plus the parked-runs
gauge, read from the runs table at scrape time. It sits on the API's port, so it takes an
admin token (SPEC §4): its counts span every tenant. Workers serve theirs on a port of their
own (``BRAIN_METRICS_PORT``, core/metrics.py)."""

import logging
from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlmodel import col

from api.deps import Admin, StateDep
from core.gate_metrics import parked_runs
from models.processes import RunState
from models.tables import RunRow
from store.tenancy import ALL_TENANTS, tenant_scope

router = APIRouter(tags=["metrics"])
log = logging.getLogger(__name__)


class _Computed(Collector):
    """Families computed for one scrape."""

    def __init__(self, *families: Metric) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


async def _parked_counts(state: StateDep) -> dict[str, int]:
    query = (
        select(col(RunRow.process), func.count())
        .where(col(RunRow.state) == RunState.AWAITING_APPROVAL.value)
        .group_by(col(RunRow.process))
    )
    # The gauge counts every tenant's runs (see above): the one read here that bypasses the
    # caller's tenant scope.
    with tenant_scope(ALL_TENANTS):
        async with state.sessions() as session:
            rows = await session.execute(query)
            return {process: int(count) for process, count in rows.all()}


@router.get("/metrics", name="metrics", include_in_schema=False)
async def metrics(principal: Admin, state: StateDep) -> Response:
    body = generate_latest(REGISTRY)
    try:
        counts = await _parked_counts(state)
    except Exception as err:
        # The database being down must not hide every other metric.
        log.warning("parked-runs gauge unavailable: %s", err)
    else:
        scrape = CollectorRegistry()
        scrape.register(_Computed(parked_runs(counts)))
        body += generate_latest(scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
