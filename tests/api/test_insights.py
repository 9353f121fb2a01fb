"""``GET /insights/decisions`` (SPEC §7) over an audit log seeded by hand, so every number
below is worked out in the comments: rates, time to decision, the suggested threshold."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from models.tables import DecisionRow, RunRow
from processes import registry
from tests.api.support import Api, new_tenant

INSIGHTS = "/insights/decisions"
NOW = datetime.now(UTC)
_ids = itertools.count()

# Lead scoring's human decisions: (count, confidence, outcome). "ok" is approved as proposed.
# Ranked by confidence, highest first (n at or above, k of them ok):
#   0.99: n=19 (too few)   0.97: n=20, k=19 (95 %: yes)   0.93: n=25, k=23 (92 %: no)
#   0.90: n=45, k=43 (95.6 %: yes)   0.80: n=51, k=46 (90.2 %: no)   => suggestion 0.90
HUMAN = [
    (19, 0.99, "ok"),
    (1, 0.97, "reject"),
    (4, 0.93, "ok"),
    (1, 0.93, "edited"),
    (20, 0.90, "ok"),
    (3, 0.80, "ok"),
    (3, 0.80, "reject"),
]


async def _seed(api: Api, tenant: str, process: str, rows: list[dict[str, Any]]) -> None:
    """Audit rows and their runs; ``wait`` seconds between parking and the decision."""
    decisions, runs = [], []
    for row in rows:
        wid = f"{process}:{tenant}:{next(_ids)}"
        decided_at = row.get("decided_at", NOW - timedelta(minutes=1))
        wait = row.get("wait")
        runs.append(
            {
                "workflow_id": wid,
                "tenant": tenant,
                "process": process,
                "state": "completed",
                "requested_at": decided_at - timedelta(seconds=wait) if wait else None,
            }
        )
        decisions.append(
            {
                "approval_id": f"{wid}:1",
                "workflow_id": wid,
                "run_id": "r",
                "tenant": tenant,
                "process": process,
                "decision": row.get("decision", "approve"),
                "actor": "someone",
                "channel": row.get("channel", "api"),
                "confidence": row["confidence"],
                "threshold": 0.85,
                "hitl_enabled": True,
                "edits": row.get("edits"),
                "decided_at": decided_at,
                "requested_at": decided_at - timedelta(seconds=wait) if wait else None,
                "gate": row.get("gate"),
            }
        )
    async with api.brain.db.sessions.begin() as session:
        await session.execute(insert(RunRow), runs)
        await session.execute(insert(DecisionRow), decisions)


def _human(count: int, confidence: float, outcome: str, **kw: Any) -> list[dict[str, Any]]:
    row: dict[str, Any] = {"confidence": confidence, **kw}
    if outcome == "reject":
        row["decision"] = "reject"
    elif outcome == "edited":
        row["edits"] = {"score": 40}
    return [dict(row) for _ in range(count)]


async def _lead_log(api: Api, tenant: str) -> None:
    rows = [r for spec in HUMAN for r in _human(*spec)]
    for i, row in enumerate(rows):  # 51 decisions: waits of 10, 20, ..., 510 seconds
        row["wait"] = 10 * (i + 1)
        row["channel"] = "signal" if i % 5 == 0 else "api"
    rows += [{"confidence": 0.95, "channel": "auto"} for _ in range(8)]
    rows += [
        {"confidence": 0.6, "channel": "timeout", "decision": "reject", "wait": 9} for _ in "ab"
    ]
    rows += [{"confidence": 0.88, "channel": "policy", "wait": 5}]
    # A cancel is audited (channel api) but decides nothing: counted nowhere.
    rows += [{"confidence": 0.99, "decision": "cancel", "wait": 1}]
    # A year ago, ten rejections of confident proposals: only a query without `since`
    # sees them, and they sink the suggestion.
    old = NOW - timedelta(days=365)
    rows += _human(10, 0.99, "reject", decided_at=old, wait=60)
    await _seed(api, tenant, "lead_scoring", rows)
    # Four quick decisions for product sourcing: too few to suggest anything.
    waits = [10, 20, 30, 100]
    await _seed(api, tenant, "product_sourcing", [{"confidence": 0.9, "wait": w} for w in waits])


async def _insights(api: Api, role: str = "admin", tenant: str | None = None, **params: Any) -> Any:
    """Items by process (its first gate), and by ``process:gate`` for the gates after."""
    r = await api.http.get(INSIGHTS, params=params, headers=api.auth(role, tenant=tenant))
    assert r.status_code == 200, r.text
    found = {}
    for item in r.json()["items"]:
        first = registry.definition(item["process"]).gates[0].name
        key = item["process"] if item["gate"] == first else f"{item['process']}:{item['gate']}"
        found[key] = item
    return found


async def test_insights_from_a_seeded_audit_log(api: Api) -> None:
    await _lead_log(api, api.tenant)
    await api.brain.set_policy(confidence_threshold=0.7)
    since = (NOW - timedelta(days=30)).isoformat()
    found = await _insights(api, since=since)
    assert set(found) >= {p.value for p in registry.processes()}
    lead = found["lead_scoring"]
    # 51 human + 8 auto + 2 timeouts + 1 policy release; 53 waited for a person or the clock.
    assert lead == {
        "process": "lead_scoring",
        "gate": "review",
        "runs": 62,
        "auto_rate": pytest.approx(8 / 62),
        "human_decisions": 51,
        "released_by_policy": 1,
        "approved_as_proposed_rate": pytest.approx(46 / 53),
        "edited_rate": pytest.approx(1 / 53),
        "rejected_rate": pytest.approx(4 / 53),
        "timed_out_rate": pytest.approx(2 / 53),
        # 51 waits 10..510 s: the median at position 25 (260 s), the p90 at 45 (460 s).
        "median_seconds_to_decision": 260.0,
        "p90_seconds_to_decision": 460.0,
        "current_threshold": 0.7,
        "suggested_threshold": 0.9,
        "suggestion_reason": None,
        "sample_size": 51,
        # At or above 0.90: 45 human decisions and the 8 automatic runs, of 62.
        "suggested_auto_share": pytest.approx(53 / 62),
    }
    sourcing = found["product_sourcing"]
    # Waits 10, 20, 30, 100: median at 1.5 (25 s), p90 at 2.7 (30 + 0.7 * 70 = 79 s).
    assert (sourcing["median_seconds_to_decision"], sourcing["p90_seconds_to_decision"]) == (
        25.0,
        79.0,
    )
    assert (sourcing["runs"], sourcing["sample_size"]) == (4, 4)
    assert sourcing["suggested_threshold"] is None and sourcing["suggested_auto_share"] is None
    assert "only 4 human decisions" in sourcing["suggestion_reason"]
    assert "at least 20" in sourcing["suggestion_reason"]
    empty = found["campaign_tuning"]
    assert (empty["runs"], empty["auto_rate"], empty["median_seconds_to_decision"]) == (
        0,
        None,
        None,
    )


async def test_each_gate_has_its_own_insights(api: Api) -> None:
    # Rows from before gates had names count for the first gate (buyer), with its named
    # ones; finance's are its own.
    await _seed(
        api,
        api.tenant,
        "product_sourcing",
        [{"confidence": 0.9, "wait": 10}] * 3
        + [{"confidence": 0.9, "wait": 10, "gate": "buyer"}]
        + [{"confidence": 0.9, "wait": 40, "gate": "finance", "channel": "slack"}] * 2,
    )
    found = await _insights(api, process="product_sourcing")
    buyer, finance = found["product_sourcing"], found["product_sourcing:finance"]
    assert (buyer["gate"], buyer["runs"], buyer["median_seconds_to_decision"]) == ("buyer", 4, 10)
    assert (buyer["human_decisions"], buyer["sample_size"]) == (4, 4)
    assert (finance["runs"], finance["human_decisions"]) == (2, 2)
    assert finance["median_seconds_to_decision"] == 40.0


async def test_without_since_the_old_rejections_leave_no_suggestion(api: Api) -> None:
    await _lead_log(api, api.tenant)
    lead = (await _insights(api, process="lead_processing"))["lead_scoring"]
    assert (lead["runs"], lead["human_decisions"], lead["sample_size"]) == (72, 61, 61)
    # At 0.99 now 19 ok of 29; lower down never back to 95 %.
    assert lead["suggested_threshold"] is None and lead["suggested_auto_share"] is None
    assert "95%" in lead["suggestion_reason"]


async def test_the_sample_is_the_last_500_human_decisions(api: Api) -> None:
    # 30 older rejections at 0.99, then 500 plain approvals at 0.50..0.99. With the old
    # ones, 0.50 would have 500 ok of 530 (94 %): only the last 500 make it a suggestion.
    old = NOW - timedelta(days=2)
    rows = _human(30, 0.99, "reject", decided_at=old)
    rows += [{"confidence": 0.5 + (i % 50) / 100, "channel": "api"} for i in range(500)]
    rows += [{"confidence": 0.3, "channel": "auto"} for _ in range(10)]
    await _seed(api, api.tenant, "campaign_tuning", rows)
    found = (await _insights(api, process="campaign_tuning"))["campaign_tuning"]
    assert (found["human_decisions"], found["sample_size"]) == (530, 500)
    assert found["suggested_threshold"] == 0.5
    # Every run but the ten automatic ones at 0.3 lies at or above 0.50.
    assert found["suggested_auto_share"] == pytest.approx(530 / 540)


async def test_tenants_see_only_their_own_insights(api: Api) -> None:
    other = new_tenant()
    await _lead_log(api, api.tenant)
    await _seed(api, other, "lead_scoring", [{"confidence": 0.9, "channel": "auto"}] * 3)
    mine = (await _insights(api, process="lead_scoring"))["lead_scoring"]
    theirs = (await _insights(api, tenant=other, process="lead_scoring"))["lead_scoring"]
    assert (mine["runs"], theirs["runs"]) == (72, 3)
    assert theirs["auto_rate"] == 1.0

    refused = await api.http.get(INSIGHTS, params={"tenant": other}, headers=api.auth("admin"))
    assert refused.status_code == 403, refused.text
    everyone = await api.http.get(INSIGHTS, params={"tenant": "*"}, headers=api.auth("admin"))
    assert everyone.status_code == 403
    as_root = await _insights(api, "super_admin", tenant=api.tenant, process="lead_scoring")
    assert as_root == {"lead_scoring": mine}
    root = await api.http.get(
        INSIGHTS,
        params={"tenant": other, "process": "lead_scoring"},
        headers=api.auth("super_admin"),
    )
    assert root.json()["tenant"] == other and root.json()["items"][0]["runs"] == 3
    every = await _insights(api, "super_admin", tenant="*", process="lead_scoring")
    assert every["lead_scoring"]["runs"] >= 75


@pytest.mark.parametrize(
    "params",
    [
        {"process": "astrology"},
        {"since": "yesterday"},
        {"since": "0001-01-01T00:00:00+01:00"},
        {"tenant": "a/b"},
    ],
    ids=str,
)
async def test_bad_parameters_are_422(api: Api, params: dict[str, str]) -> None:
    r = await api.http.get(INSIGHTS, params=params, headers=api.auth("super_admin"))
    assert r.status_code == 422, r.text
