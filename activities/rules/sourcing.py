"""Supplier choice: filter by the buyer's constraints, score the rest, prefer a clear winner."""

from dataclasses import dataclass

from activities.rules._common import result
from models.ai import AIResult
from models.inputs import ProductSourcingInput, Supplier
from models.processes import Process

# Price matters most to a purchase order; rating stands in for quality and reliability.
_W_PRICE, _W_LEAD, _W_RATING = 0.5, 0.2, 0.3
# A score gap this wide between best and runner-up is a clear call.
_CLEAR_MARGIN = 0.15
# With a single eligible supplier there is nothing to beat, which is weaker evidence than
# beating a rival by a wide margin.
_LONE_MARGIN_TERM = 0.85
_GOOD_RATING = 4.5
_MAX_CONFIDENCE = 0.98
_NO_ELIGIBLE_CAP = 0.3
_LISTED = 10


@dataclass(frozen=True)
class _Scored:
    supplier: Supplier
    score: float
    violations: tuple[str, ...]
    severity: float


def _violations(s: Supplier, inp: ProductSourcingInput) -> tuple[tuple[str, ...], float]:
    """Which constraints the supplier breaks, and by how much (relative overshoot)."""
    found: list[str] = []
    severity = 0.0
    if inp.max_unit_price is not None and s.unit_price > inp.max_unit_price:
        found.append(f"unit price {s.unit_price:g} > max {inp.max_unit_price:g}")
        severity += s.unit_price / inp.max_unit_price - 1
    if inp.needed_by_days is not None and s.lead_time_days > inp.needed_by_days:
        found.append(f"lead time {s.lead_time_days} d > needed by {inp.needed_by_days} d")
        severity += (s.lead_time_days - inp.needed_by_days) / (inp.needed_by_days + 1)
    if s.min_order_qty > inp.quantity:
        found.append(f"minimum order {s.min_order_qty} > quantity {inp.quantity}")
        severity += s.min_order_qty / inp.quantity - 1
    return tuple(found), severity


def _score_pool(pool: list[Supplier], inp: ProductSourcingInput) -> list[_Scored]:
    # Relative to the pool: the cheapest and fastest score 1 on their criterion.
    cheapest = min(s.unit_price for s in pool)
    fastest = min(s.lead_time_days for s in pool)
    scored = []
    for s in pool:
        score = (
            _W_PRICE * cheapest / s.unit_price
            + _W_LEAD * (fastest + 1) / (s.lead_time_days + 1)
            + _W_RATING * s.rating / 5
        )
        violations, severity = _violations(s, inp)
        scored.append(_Scored(s, score, violations, severity))
    # Ties resolve by name so the choice never depends on input order.
    return sorted(scored, key=lambda x: (x.severity, -x.score, x.supplier.name))


def _unique(suppliers: list[Supplier]) -> list[Supplier]:
    # Validation resolves a supplier by name to the input's last entry with that name,
    # so only that entry is a real option.
    return list({s.name: s for s in suppliers}.values())


def _describe(s: Supplier) -> str:
    return f"{s.name} ({s.unit_price:g}/unit, {s.lead_time_days} d, rating {s.rating:g})"


def _excluded_text(excluded: list[_Scored]) -> str:
    if not excluded:
        return ""
    parts = [f"{x.supplier.name} ({'; '.join(x.violations)})" for x in excluded[:_LISTED]]
    more = f" and {len(excluded) - _LISTED} more" if len(excluded) > _LISTED else ""
    return f" Excluded: {', '.join(parts)}{more}."


def source_product(inp: ProductSourcingInput) -> AIResult:
    options = _unique(inp.suppliers)
    everyone = _score_pool(options, inp)
    eligible_names = {x.supplier.name for x in everyone if not x.violations}
    if not eligible_names:
        return _least_bad(inp, everyone)

    # Re-score among the eligible only: an excluded bargain must not set the price scale.
    ranked = _score_pool([s for s in options if s.name in eligible_names], inp)
    best = ranked[0]
    runner_up = ranked[1] if len(ranked) > 1 else None
    n = len(ranked)
    if runner_up is None:
        margin = 0.0
        margin_term = _LONE_MARGIN_TERM
    else:
        margin = best.score - runner_up.score
        margin_term = 0.5 + 0.5 * min(1.0, margin / _CLEAR_MARGIN)
    count_term = {1: 0.85, 2: 0.93}.get(n, 1.0)
    rating_term = min(1.0, 0.5 + 0.5 * best.supplier.rating / _GOOD_RATING)
    confidence = min(_MAX_CONFIDENCE, margin_term * count_term * rating_term)

    versus = (
        f"runner-up {runner_up.supplier.name} scored {runner_up.score:.3f} (margin {margin:.3f})"
        if runner_up
        else "no other supplier meets the constraints"
    )
    excluded = [x for x in everyone if x.violations]
    rationale = (
        f"Chose {_describe(best.supplier)} with score {best.score:.3f} "
        f"(price {_W_PRICE:g}, lead time {_W_LEAD:g}, rating {_W_RATING:g}) among {n} "
        f"eligible of {len(options)} suppliers; {versus}.{_excluded_text(excluded)} "
        f"Confidence {confidence:.2f}: margin term {margin_term:.2f}, {n} eligible, "
        f"rating {best.supplier.rating:g}."
    )
    signals = {
        "best_score": best.score,
        "runner_up_score": runner_up.score if runner_up else 0.0,
        "score_margin": margin,
        "eligible_suppliers": n,
        "suppliers": len(options),
        "best_rating": best.supplier.rating,
        "margin_term": margin_term,
        "count_term": count_term,
        "rating_term": rating_term,
    }
    return _result(inp, best.supplier, rationale, confidence, signals)


def _least_bad(inp: ProductSourcingInput, everyone: list[_Scored]) -> AIResult:
    """Nobody meets the constraints: propose the smallest breach, with low confidence.

    A person will look because confidence is low; the proposal gives them a starting point.
    """
    pick = everyone[0]
    confidence = _NO_ELIGIBLE_CAP * (pick.supplier.rating / 5) / (1 + pick.severity)
    rationale = (
        f"No supplier meets all constraints. Least-bad option: {_describe(pick.supplier)}, "
        f"which violates: {'; '.join(pick.violations)}.{_excluded_text(everyone[1:])} "
        f"Confidence {confidence:.2f}: every option breaks a constraint, so a person should "
        f"relax one or find another supplier."
    )
    signals = {
        "best_score": pick.score,
        "violation_severity": pick.severity,
        "eligible_suppliers": 0,
        "suppliers": len(everyone),
        "best_rating": pick.supplier.rating,
    }
    return _result(inp, pick.supplier, rationale, confidence, signals)


def _result(
    inp: ProductSourcingInput,
    chosen: Supplier,
    rationale: str,
    confidence: float,
    signals: dict[str, float],
) -> AIResult:
    data = {
        "supplier": chosen.name,
        "unit_price": chosen.unit_price,
        # Unrounded so a tiny price never rounds to a zero cost; validation recomputes it.
        "total_cost": chosen.unit_price * inp.quantity,
        "rationale": rationale,
    }
    return result(Process.PRODUCT_SOURCING, inp, data, confidence, signals)
