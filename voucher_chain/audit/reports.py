"""Regulator reports computed from the index: the figures the source document publishes
(issued, used, institutions, services, enterprise sizes), per program, region, category,
institution and month, plus the cross-region flow matrix and redemption latency.

Every report takes the same :class:`Filters`: issuer region pattern, program, fiscal year and
a period ``[since, until)`` of block timestamps. Program figures are *flows* within the period
(with no period: everything so far, which must equal the contracts' running totals — see
:mod:`voucher_chain.audit.verify`). Amounts are in fen, durations in seconds.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from voucher_chain.audit.decode import from_json
from voucher_chain.audit.models import BlockRow, EventRow, OrderRow, OrgRow, ProgramRow
from voucher_chain.contracts.regions import matches, province_of

__all__ = [
    "Filters",
    "Figures",
    "category_report",
    "enterprise_report",
    "flow_report",
    "institution_report",
    "latency_report",
    "monthly_report",
    "program_figures",
    "summary_report",
]

#: Staff-count bands of the enterprise report (the source document counts "≤ 20 staff").
SIZE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("<=20", 0, 20),
    ("21-100", 21, 100),
    ("101-300", 101, 300),
    (">300", 301, 2**32),
)


@dataclass(frozen=True)
class Filters:
    region: int | None = None  # issuer region pattern (GB/T 2260)
    program_id: int | None = None
    fiscal_year: int | None = None
    since: int | None = None  # unix seconds, inclusive
    until: int | None = None  # unix seconds, exclusive

    def in_period(self, ts: int | None) -> bool:
        if ts is None:
            return False
        return (self.since is None or ts >= self.since) and (self.until is None or ts < self.until)


class Figures(BaseModel):
    """Budget and voucher figures of one program or a sum of programs (fen)."""

    programs: int = 0
    budget: int = Field(default=0, description="Escrowed by finance plus rolled in from last year.")
    funded: int = 0
    rolled_in: int = 0
    escrowed: int = Field(default=0, description="budget − paid − returned: money still in escrow.")
    issued: int = Field(default=0, description="Face value of vouchers issued.")
    redeemed: int = Field(
        default=0, description="Face value of vouchers redeemed (paid from escrow)."
    )
    reward_paid: int = 0
    paid: int = Field(default=0, description="Paid from escrow: redemptions plus rewards.")
    usage_rate: float = Field(default=0.0, description="redeemed / issued (0 when nothing issued).")
    revoked: int = 0
    expired: int = 0
    outstanding: int = Field(
        default=0, description="issued − redeemed − revoked − expired (value)."
    )
    returned: int = Field(
        default=0, description="Left in escrow at close and sent back to finance."
    )
    rolled_over: int = Field(
        default=0, description="Left at close and rolled into the next program."
    )
    institutions: int = Field(default=0, description="Distinct institutions paid.")
    services: int = Field(default=0, description="Orders settled (services provided).")
    enterprises: int = Field(default=0, description="Distinct enterprises issued vouchers.")

    def finish(self) -> Figures:
        self.budget = self.funded + self.rolled_in
        self.escrowed = self.budget - self.paid - self.returned - self.rolled_over
        self.outstanding = self.issued - self.redeemed - self.revoked - self.expired
        self.usage_rate = round(self.redeemed / self.issued, 6) if self.issued else 0.0
        return self


class ProgramFigures(Figures):
    program_id: int
    issuer_org: int
    issuer_region: int
    fiscal_year: int
    kind: int


@dataclass
class _Acc:
    figures: Figures
    institutions: set[int] = field(default_factory=set)
    enterprises: set[int] = field(default_factory=set)


def _regions(s: Session) -> dict[int, int]:
    return {int(k): int(v) for k, v in s.execute(select(OrgRow.org_id, OrgRow.region))}


def _programs(s: Session, f: Filters) -> dict[int, tuple[ProgramRow, int]]:
    """Programs selected by the filters, with their issuer's region."""
    regions = _regions(s)
    chosen: dict[int, tuple[ProgramRow, int]] = {}
    for p in s.scalars(select(ProgramRow).order_by(ProgramRow.program_id)):
        region = regions.get(p.issuer_org, 0)
        if f.program_id is not None and p.program_id != f.program_id:
            continue
        if f.fiscal_year is not None and p.fiscal_year != f.fiscal_year:
            continue
        if f.region is not None and not matches(f.region, region):
            continue
        chosen[p.program_id] = (p, region)
    return chosen


_PROGRAM_EVENTS = (
    "ProgramFunded",
    "VouchersIssued",
    "VouchersRedeemed",
    "RewardPaid",
    "VouchersRevoked",
    "VouchersExpired",
    "ProgramClosed",
    "BudgetRolledOver",
)


def _events(s: Session, names: Sequence[str]) -> Iterable[tuple[str, int, dict[str, Any]]]:
    rows = s.execute(
        select(EventRow.name, EventRow.timestamp, EventRow.args)
        .where(EventRow.name.in_(names))
        .order_by(EventRow.block_number, EventRow.log_index)
    )
    for name, ts, args in rows:
        yield name, ts, from_json(args)


def program_figures(s: Session, f: Filters = Filters()) -> list[ProgramFigures]:
    """Per-program figures derived from the events themselves (not the projections)."""
    chosen = _programs(s, f)
    acc = {
        pid: _Acc(
            ProgramFigures(
                program_id=pid,
                issuer_org=p.issuer_org,
                issuer_region=region,
                fiscal_year=p.fiscal_year,
                kind=p.kind,
                programs=1,
            )
        )
        for pid, (p, region) in chosen.items()
    }
    face = {pid: p.face_value for pid, (p, _) in chosen.items()}
    for name, ts, a in _events(s, _PROGRAM_EVENTS):
        if not f.in_period(ts) and (f.since is not None or f.until is not None):
            continue
        pid = int(a["programId"])
        target = acc.get(int(a["targetId"])) if name == "BudgetRolledOver" else None
        if target is not None:
            target.figures.rolled_in += int(a["amount"])
        entry = acc.get(pid)
        if entry is None:
            continue
        fig = entry.figures
        if name == "ProgramFunded":
            fig.funded += int(a["amount"])
        elif name == "VouchersIssued":
            fig.issued += int(a["value"])
            entry.enterprises.add(int(a["enterpriseOrg"]))
        elif name == "VouchersRedeemed":
            fig.redeemed += int(a["value"])
            fig.paid += int(a["value"])
            entry.institutions.add(int(a["institutionOrg"]))
        elif name == "RewardPaid":
            fig.reward_paid += int(a["amount"])
            fig.paid += int(a["amount"])
            entry.institutions.add(int(a["institutionOrg"]))
        elif name == "VouchersRevoked":
            fig.revoked += int(a["units"]) * face[pid]
        elif name == "VouchersExpired":
            fig.expired += int(a["units"]) * face[pid]
        elif name == "ProgramClosed":
            fig.returned += int(a["remainingEscrow"])
        elif name == "BudgetRolledOver":
            fig.rolled_over += int(a["amount"])
            fig.returned -= int(a["amount"])
    services = _settled_orders(s, f, set(chosen))
    out: list[ProgramFigures] = []
    for pid, entry in acc.items():
        fig = entry.figures
        assert isinstance(fig, ProgramFigures)
        fig.institutions = len(entry.institutions)
        fig.enterprises = len(entry.enterprises)
        fig.services = sum(1 for o in services if o.program_id == pid)
        out.append(fig.finish())  # type: ignore[arg-type]
    return out


def _settled_orders(s: Session, f: Filters, programs: set[int]) -> list[OrderRow]:
    rows = s.scalars(select(OrderRow).where(OrderRow.settled_at.is_not(None)))
    return [o for o in rows if o.program_id in programs and _period(f, o.settled_at)]


def _period(f: Filters, ts: int | None) -> bool:
    if f.since is None and f.until is None:
        return ts is not None
    return f.in_period(ts)


def _sum(figures: Sequence[Figures], **extra: Any) -> Figures:
    total = Figures(**extra)
    for fig in figures:
        for name in ("programs", "funded", "rolled_in", "issued", "redeemed", "reward_paid"):
            setattr(total, name, getattr(total, name) + getattr(fig, name))
        for name in ("paid", "revoked", "expired", "returned", "rolled_over", "services"):
            setattr(total, name, getattr(total, name) + getattr(fig, name))
    return total.finish()


class RegionFigures(Figures):
    region: int


def summary_report(s: Session, f: Filters = Filters()) -> dict[str, Any]:
    """Totals, per program, and per issuer province; institutions/enterprises counted distinct."""
    per_program = program_figures(s, f)
    chosen = {p.program_id for p in per_program}
    settled = _settled_orders(s, f, chosen)
    issued_to: dict[int, set[int]] = defaultdict(set)  # program → enterprises issued to
    for _, ts, a in _events(s, ("VouchersIssued",)):
        if int(a["programId"]) in chosen and _period(f, ts):
            issued_to[int(a["programId"])].add(int(a["enterpriseOrg"]))
    totals = _sum(per_program)
    totals.institutions = len({o.institution_org for o in settled})
    totals.enterprises = len(set[int]().union(*issued_to.values()))
    by_region: dict[int, list[ProgramFigures]] = defaultdict(list)
    for p in per_program:
        by_region[province_of(p.issuer_region)].append(p)
    regions = []
    for region, figs in sorted(by_region.items()):
        r = RegionFigures(region=region, **_sum(figs).model_dump())
        ids = {p.program_id for p in figs}
        r.institutions = len({o.institution_org for o in settled if o.program_id in ids})
        r.enterprises = len(set[int]().union(*(issued_to[i] for i in ids)))
        regions.append(r)
    return {"totals": totals, "programs": per_program, "regions": regions}


def _orders(s: Session, f: Filters) -> tuple[list[OrderRow], dict[int, tuple[ProgramRow, int]]]:
    chosen = _programs(s, f)
    rows = [
        o for o in s.scalars(select(OrderRow).order_by(OrderRow.order_id)) if o.program_id in chosen
    ]
    return rows, chosen


def category_report(s: Session, f: Filters = Filters()) -> list[dict[str, Any]]:
    """Per category: orders placed in the period, and settled ones with their amounts."""
    orders, _ = _orders(s, f)
    acc: dict[int, dict[str, Any]] = {}
    for o in orders:
        row = acc.setdefault(
            o.category,
            {
                "category": o.category,
                "orders": 0,
                "settled": 0,
                "voucher_paid": 0,
                "own_funds_paid": 0,
            },
        )
        if _period(f, o.placed_at):
            row["orders"] += 1
        if o.settled_at is not None and _period(f, o.settled_at):
            row["settled"] += 1
            row["voucher_paid"] += o.paid_voucher
            row["own_funds_paid"] += o.paid_own
    for row in acc.values():
        row["total_paid"] = row["voucher_paid"] + row["own_funds_paid"]
    return [acc[k] for k in sorted(acc)]


def institution_report(s: Session, f: Filters = Filters()) -> list[dict[str, Any]]:
    """Per institution: services settled, amounts, and the average days from order to payment."""
    orders, _ = _orders(s, f)
    regions = _regions(s)
    acc: dict[int, dict[str, Any]] = {}
    for o in orders:
        if o.settled_at is None or not _period(f, o.settled_at):
            continue
        row = acc.setdefault(
            o.institution_org,
            {
                "institution_org": o.institution_org,
                "region": regions.get(o.institution_org, 0),
                "services": 0,
                "voucher_paid": 0,
                "own_funds_paid": 0,
                "_days": [],
            },
        )
        row["services"] += 1
        row["voucher_paid"] += o.paid_voucher
        row["own_funds_paid"] += o.paid_own
        row["_days"].append((o.settled_at - o.placed_at) / 86400)
    out = []
    for key in sorted(acc):
        row = acc[key]
        days = row.pop("_days")
        row["total_paid"] = row["voucher_paid"] + row["own_funds_paid"]
        row["avg_days_order_to_payment"] = round(statistics.fmean(days), 3)
        out.append(row)
    return out


def enterprise_report(s: Session, f: Filters = Filters()) -> dict[str, list[dict[str, Any]]]:
    """Enterprises issued vouchers, by staff band and by industry code (as the registry records:
    employees and GB/T 4754 industry), with the value issued and used."""
    chosen = _programs(s, f)
    orgs = {o.org_id: o for o in s.scalars(select(OrgRow))}
    issued: dict[int, int] = defaultdict(int)
    for _, ts, a in _events(s, ("VouchersIssued",)):
        if int(a["programId"]) in chosen and _period(f, ts):
            issued[int(a["enterpriseOrg"])] += int(a["value"])
    used: dict[int, int] = defaultdict(int)
    for _, ts, a in _events(s, ("VouchersRedeemed",)):
        if int(a["programId"]) in chosen and _period(f, ts):
            used[int(a["enterpriseOrg"])] += int(a["value"])
    total = len(issued)
    sizes: dict[str, dict[str, Any]] = {
        band: {"band": band, "enterprises": 0, "share": 0.0, "issued": 0, "used": 0}
        for band, _, _ in SIZE_BANDS
    }
    industries: dict[int, dict[str, Any]] = {}
    for org_id, value in issued.items():
        org = orgs.get(org_id)
        employees = org.employees if org is not None else 0
        band = next(b for b, lo, hi in SIZE_BANDS if lo <= employees <= hi)
        industry = org.industry if org is not None else 0
        for row in (
            sizes[band],
            industries.setdefault(
                industry,
                {"industry": industry, "enterprises": 0, "share": 0.0, "issued": 0, "used": 0},
            ),
        ):
            row["enterprises"] += 1
            row["issued"] += value
            row["used"] += used.get(org_id, 0)
    for row in [*sizes.values(), *industries.values()]:
        row["share"] = round(row["enterprises"] / total, 6) if total else 0.0
    return {
        "by_size": list(sizes.values()),
        "by_industry": [industries[k] for k in sorted(industries)],
    }


def flow_report(s: Session, f: Filters = Filters()) -> list[dict[str, Any]]:
    """The cross-region matrix: issuer province → institution province, settled orders and the
    voucher value paid (rows with the same province are local use)."""
    orders, chosen = _orders(s, f)
    regions = _regions(s)
    acc: dict[tuple[int, int], dict[str, Any]] = {}
    for o in orders:
        if o.settled_at is None or not _period(f, o.settled_at):
            continue
        src = province_of(chosen[o.program_id][1])
        dst = province_of(regions.get(o.institution_org, 0))
        row = acc.setdefault(
            (src, dst),
            {"issuer_region": src, "institution_region": dst, "orders": 0, "voucher_paid": 0},
        )
        row["orders"] += 1
        row["voucher_paid"] += o.paid_voucher
    return [acc[k] for k in sorted(acc)]


def _stats(values: list[int]) -> dict[str, float | int]:
    if not values:
        return {"count": 0, "mean": 0.0, "p50": 0.0, "p90": 0.0, "max": 0}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "mean": round(statistics.fmean(ordered), 3),
        "p50": float(ordered[len(ordered) // 2]),
        "p90": float(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]),
        "max": ordered[-1],
    }


def latency_report(s: Session, f: Filters = Filters()) -> dict[str, Any]:
    """Seconds from order to delivery, delivery to confirmation (= payment: settlement is
    instant, in the confirming transaction) and order to payment, over settled orders."""
    orders, _ = _orders(s, f)
    settled = [o for o in orders if o.settled_at is not None and _period(f, o.settled_at)]
    delivered = [o for o in settled if o.delivered_at is not None]
    return {
        "order_to_delivery": _stats([o.delivered_at - o.placed_at for o in delivered]),  # type: ignore[operator]
        "delivery_to_confirmation": _stats([o.settled_at - o.delivered_at for o in delivered]),  # type: ignore[operator]
        "confirmation_to_payment": _stats([0 for _ in settled]),
        "order_to_payment": _stats([o.settled_at - o.placed_at for o in settled]),  # type: ignore[operator]
    }


def month_of(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")


def monthly_report(s: Session, f: Filters = Filters()) -> list[dict[str, Any]]:
    """Issued vs used (redeemed) voucher value per issuer province per calendar month (UTC)."""
    chosen = _programs(s, f)
    acc: dict[tuple[int, str], dict[str, Any]] = {}
    for name, ts, a in _events(s, ("VouchersIssued", "VouchersRedeemed")):
        pid = int(a["programId"])
        if pid not in chosen or not _period(f, ts):
            continue
        key = (province_of(chosen[pid][1]), month_of(ts))
        row = acc.setdefault(key, {"region": key[0], "month": key[1], "issued": 0, "used": 0})
        row["issued" if name == "VouchersIssued" else "used"] += int(a["value"])
    for row in acc.values():
        row["usage_rate"] = round(row["used"] / row["issued"], 6) if row["issued"] else 0.0
    return [acc[k] for k in sorted(acc)]


def head(s: Session) -> tuple[int, str] | None:
    """The indexed head: (number, hash), or None before the first block."""
    row = s.scalars(select(BlockRow).order_by(BlockRow.number.desc()).limit(1)).first()
    return None if row is None else (row.number, row.hash)
