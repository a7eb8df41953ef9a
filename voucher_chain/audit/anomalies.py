"""Anomaly rules over the index. Each finding names its rule, its subject and the numbers,
in a sentence a person can check (amounts in yuan, times in days).

Limits (what the chain records decides what can be seen):
- related parties are known only by the registry's declared ``affiliation``; undeclared
  relations are invisible, and the contract already refuses trades inside one affiliation, so
  the affiliation rule looks at paybacks to an enterprise's affiliates, and the failed-attempt
  rule at refused trades;
- failed attempts are seen only if the failed transaction was mined (status 0); a node that
  refuses a reverting transaction at submission (eth-tester estimates gas first) leaves no
  trace on chain, and the API's own refusals are not on chain either.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voucher_chain.audit.config import AnomalyConfig, load_config
from voucher_chain.audit.decode import from_json
from voucher_chain.audit.models import (
    EventRow,
    FailedTxRow,
    OrderRow,
    OrgRow,
    ProgramRow,
    ServiceRow,
)

__all__ = ["RULES", "Anomaly", "detect"]

ZERO = "0x" + "00" * 32


def yuan(fen: int | float) -> str:
    """Fen as yuan, exact for integers (a median may be a half fen)."""
    if isinstance(fen, int):
        return f"¥{fen // 100:,}.{fen % 100:02d}"
    return f"¥{fen / 100:,.2f}"


def days(seconds: int | float) -> str:
    return f"{seconds / 86400:.2f} days"


@dataclass(frozen=True)
class Anomaly:
    rule: str
    subject: str
    explanation: str
    numbers: dict[str, Any]
    orders: list[int] = field(default_factory=list)
    orgs: list[int] = field(default_factory=list)


def _cap(p: ProgramRow, c: AnomalyConfig) -> tuple[int, str]:
    if p.full_cover_threshold > 0:
        return p.full_cover_threshold, "full-cover threshold"
    if p.max_units < 2**32 - 1:
        return p.max_units * p.face_value, "per-order voucher ceiling"
    return c.split_default_cap, "configured per-order cap"


def split_orders(s: Session, c: AnomalyConfig) -> list[Anomaly]:
    programs = {p.program_id: p for p in s.scalars(select(ProgramRow))}
    groups: dict[tuple[int, int, int], list[OrderRow]] = defaultdict(list)
    for o in s.scalars(select(OrderRow).order_by(OrderRow.placed_at, OrderRow.order_id)):
        groups[(o.program_id, o.enterprise_org, o.institution_org)].append(o)
    found = []
    for (pid, ent, inst), orders in groups.items():
        cap, cap_name = _cap(programs[pid], c)
        under = [o for o in orders if o.price <= cap]
        start = 0
        for end in range(len(under)):
            while under[end].placed_at - under[start].placed_at > c.split_window_seconds:
                start += 1
            window = under[start : end + 1]
            total = sum(o.price for o in window)
            if len(window) >= c.split_min_orders and total > cap:
                span = window[-1].placed_at - window[0].placed_at
                largest = max(o.price for o in window)
                found.append(
                    Anomaly(
                        rule="split_orders",
                        subject=f"enterprise {ent} → institution {inst}, program {pid}",
                        explanation=(
                            f"Enterprise {ent} placed {len(window)} orders with institution "
                            f"{inst} under program {pid} within {days(span)}, each at most the "
                            f"{cap_name} of {yuan(cap)} (largest {yuan(largest)}), "
                            f"together {yuan(total)}: one purchase split to stay under the cap?"
                        ),
                        numbers={
                            "orders": len(window),
                            "total": total,
                            "cap": cap,
                            "span_seconds": span,
                        },
                        orders=[o.order_id for o in window],
                        orgs=[ent, inst],
                    )
                )
                break
    return found


def concentration(s: Session, c: AnomalyConfig) -> list[Anomaly]:
    paid: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (args,) in s.execute(select(EventRow.args).where(EventRow.name == "VouchersRedeemed")):
        a = from_json(args)
        paid[int(a["programId"])][int(a["institutionOrg"])] += int(a["value"])
    found = []
    for pid, by_inst in sorted(paid.items()):
        total = sum(by_inst.values())
        if len(by_inst) < c.concentration_min_institutions or total < c.concentration_min_redeemed:
            continue
        inst, top = max(by_inst.items(), key=lambda kv: kv[1])
        share = top / total
        if share > c.concentration_share:
            found.append(
                Anomaly(
                    rule="concentration",
                    subject=f"program {pid}",
                    explanation=(
                        f"Institution {inst} received {yuan(top)} of the {yuan(total)} redeemed "
                        f"under program {pid} ({share:.1%}, threshold {c.concentration_share:.0%}) "
                        f"while {len(by_inst)} institutions were paid."
                    ),
                    numbers={
                        "share": round(share, 6),
                        "institution_paid": top,
                        "program_redeemed": total,
                    },
                    orgs=[inst],
                )
            )
    return found


def round_trips(s: Session, c: AnomalyConfig) -> list[Anomaly]:
    orgs = {o.org_id: o for o in s.scalars(select(OrgRow))}
    by_vault = {o.vault: o.org_id for o in orgs.values()}
    affiliates: dict[str, set[int]] = defaultdict(set)
    for o in orgs.values():
        if o.affiliation != ZERO:
            affiliates[o.affiliation].add(o.org_id)
    settled: dict[tuple[int, int], list[OrderRow]] = defaultdict(list)
    for order in s.scalars(select(OrderRow).where(OrderRow.settled_at.is_not(None))):
        settled[(order.institution_org, order.enterprise_org)].append(order)
    transfers = s.execute(
        select(EventRow.args, EventRow.timestamp).where(
            EventRow.name == "Transfer", EventRow.contract == "SettlementToken"
        )
    )
    found = []
    flagged: set[tuple[int, int]] = set()
    for args, ts in transfers:
        a = from_json(args)
        src, dst = by_vault.get(str(a["from"])), by_vault.get(str(a["to"]))
        if src is None or dst is None or orgs[src].kind != 3:
            continue
        receiver = orgs[dst]
        affiliation = receiver.affiliation
        related = {dst} | (affiliates.get(affiliation, set()) if affiliation != ZERO else set())
        for ent in related:
            orders = [
                o
                for o in settled.get((src, ent), [])
                if 0 <= ts - (o.settled_at or 0) <= c.round_trip_window_seconds
            ]
            paid = sum(o.paid_voucher + o.paid_own for o in orders)
            amount = int(a["value"])
            if not orders or (src, dst) in flagged or amount < c.round_trip_share * paid:
                continue
            flagged.add((src, dst))
            via = (
                ""
                if ent == dst
                else f" (organisation {dst}, which shares enterprise {ent}'s declared affiliation)"
            )
            found.append(
                Anomaly(
                    rule="round_trip",
                    subject=f"institution {src} ↔ enterprise {ent}",
                    explanation=(
                        f"Institution {src} was paid {yuan(paid)} for {len(orders)} order(s) of "
                        f"enterprise {ent} and within {days(c.round_trip_window_seconds)} sent "
                        f"{yuan(amount)} back{via}: {amount / paid:.0%} of it (threshold "
                        f"{c.round_trip_share:.0%})."
                    ),
                    numbers={"paid": paid, "returned": amount, "share": round(amount / paid, 6)},
                    orders=[o.order_id for o in orders],
                    orgs=[src, ent] + ([dst] if dst != ent else []),
                )
            )
    return found


def fast_confirmations(s: Session, c: AnomalyConfig) -> list[Anomaly]:
    found = []
    for o in s.scalars(
        select(OrderRow).where(OrderRow.settled_at.is_not(None), OrderRow.settle_method == 0)
    ):
        if o.price < c.fast_confirm_min_amount:
            continue
        took = (o.settled_at or 0) - o.placed_at
        needed = o.price / 100 * c.fast_confirm_seconds_per_yuan
        if took < needed:
            found.append(
                Anomaly(
                    rule="fast_confirmation",
                    subject=f"order {o.order_id}",
                    explanation=(
                        f"Order {o.order_id} of {yuan(o.price)} (enterprise {o.enterprise_org}, "
                        f"institution {o.institution_org}) was placed, delivered and confirmed in "
                        f"{took} s; an order this size should take at least {days(needed)}."
                    ),
                    numbers={"price": o.price, "seconds": took, "expected_seconds": round(needed)},
                    orders=[o.order_id],
                    orgs=[o.enterprise_org, o.institution_org],
                )
            )
    return found


def prices(s: Session, c: AnomalyConfig) -> list[Anomaly]:
    services = {x.service_id: x for x in s.scalars(select(ServiceRow))}
    by_category: dict[int, list[ServiceRow]] = defaultdict(list)
    for x in services.values():
        by_category[x.category].append(x)
    found = []
    for o in s.scalars(select(OrderRow).order_by(OrderRow.order_id)):
        svc = services.get(o.service_id)
        if svc is None:
            continue
        peers = [
            x.listed_price
            for x in by_category[o.category]
            if x.institution_org != o.institution_org
        ]
        if len(peers) >= c.price_peer_min_peers:
            median = statistics.median(peers)
            if o.unit_price > c.price_peer_ratio * median:
                found.append(
                    Anomaly(
                        rule="price_above_peers",
                        subject=f"order {o.order_id}",
                        explanation=(
                            f"Order {o.order_id}: institution {o.institution_org} charged "
                            f"{yuan(o.unit_price)} a unit for a category-{o.category} service; the "
                            f"median of {len(peers)} other institutions' listings is "
                            f"{yuan(median)} "
                            f"({o.unit_price / median:.1f}×, threshold {c.price_peer_ratio}×)."
                        ),
                        numbers={
                            "unit_price": o.unit_price,
                            "peer_median": median,
                            "peers": len(peers),
                        },
                        orders=[o.order_id],
                        orgs=[o.institution_org],
                    )
                )
                continue
        if o.unit_price > c.price_catalogue_ratio * svc.listed_price:
            found.append(
                Anomaly(
                    rule="price_above_catalogue",
                    subject=f"order {o.order_id}",
                    explanation=(
                        f"Order {o.order_id}: service {svc.service_id} was listed at "
                        f"{yuan(svc.listed_price)} and charged {yuan(o.unit_price)} "
                        f"({o.unit_price / svc.listed_price:.1f}×, threshold "
                        f"{c.price_catalogue_ratio}×)."
                    ),
                    numbers={"unit_price": o.unit_price, "listed_price": svc.listed_price},
                    orders=[o.order_id],
                    orgs=[o.institution_org],
                )
            )
    return found


def failed_related(s: Session, c: AnomalyConfig) -> list[Anomaly]:
    attempts: dict[int, list[FailedTxRow]] = defaultdict(list)
    for f in s.scalars(select(FailedTxRow).where(FailedTxRow.error == "OrderRelatedParties")):
        attempts[int(from_json(f.error_args).get("enterpriseOrg", f.sender_org or 0))].append(f)
    found = []
    for ent, rows in sorted(attempts.items()):
        if len(rows) < c.failed_related_min_attempts:
            continue
        insts = sorted({int(from_json(r.error_args).get("institutionOrg", 0)) for r in rows})
        found.append(
            Anomaly(
                rule="failed_related_party",
                subject=f"enterprise {ent}",
                explanation=(
                    f"Enterprise {ent} tried {len(rows)} times (threshold "
                    f"{c.failed_related_min_attempts}) to order from related institution(s) "
                    f"{', '.join(map(str, insts))}; the contract refused each "
                    "(OrderRelatedParties)."
                ),
                numbers={"attempts": len(rows), "institutions": insts},
                orgs=[ent, *insts],
            )
        )
    return found


RULES = {
    "split_orders": split_orders,
    "concentration": concentration,
    "round_trip": round_trips,
    "fast_confirmation": fast_confirmations,
    "price": prices,
    "failed_related_party": failed_related,
}


def detect(s: Session, config: AnomalyConfig | None = None) -> list[Anomaly]:
    """Every rule's findings, rule by rule."""
    c = config or load_config()
    return [a for rule in RULES.values() for a in rule(s, c)]
