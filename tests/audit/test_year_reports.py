"""The simulated year's breakdown reports — per category, per institution, enterprises by size
and industry, the cross-region flow matrix and redemption latency — recomputed here from the
contracts' state (orders, organisations, programs) and the receipts the scene collected while
driving the chain, never from the indexer's tables or the reports module, and compared exactly."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest

from tests.audit.year import Year
from voucher_chain.audit import reports
from voucher_chain.contracts import call

SETTLED = 4  # OrderState.Settled
DAY = 86_400


@dataclass(frozen=True)
class Order:
    """One settled order as the chain tells it."""

    order_id: int
    program: int
    enterprise: int
    institution: int
    category: int
    voucher: int
    own: int
    placed: int  # block timestamps
    delivered: int
    settled: int
    issuer_region: int
    institution_region: int


def _province(region: int) -> int:
    return region // 10_000 * 10_000


@pytest.fixture(scope="module")
def chain(year: Year) -> tuple[list[Order], dict[int, Any]]:
    """The year's settled orders from ``OrderBook.order`` plus their receipts' block times, and
    every organisation the orders or issuances name, from ``ParticipantRegistry``."""
    w = year.world
    stamps: dict[int, int] = {}
    orgs: dict[int, Any] = {}

    def ts(receipt: Any) -> int:
        n = int(receipt["blockNumber"])
        if n not in stamps:
            stamps[n] = int(w.w3.eth.get_block(n)["timestamp"])
        return stamps[n]

    def org(org_id: int) -> Any:
        if org_id not in orgs:
            orgs[org_id] = call(w.p.registry.functions.organisation(org_id))
        return orgs[org_id]

    issuers = {}
    orders = []
    for st in year.settled:
        o = call(w.p.orders.functions.order(st.order_id))
        program, enterprise, institution, category = o[0], o[2], o[3], o[4]
        assert o[5] == SETTLED
        # the contract's own timestamps are those of the receipts' blocks
        assert (o[6], o[7]) == (ts(st.placed), ts(st.delivered))
        [settled] = w.events(st.confirmed, w.p.orders, "OrderSettled")
        [paid] = w.events(st.confirmed, w.p.programs, "VouchersRedeemed")
        assert settled["args"]["voucherValue"] == paid["args"]["value"] == o[10]
        assert settled["args"]["ownFunds"] == o[11]
        if program not in issuers:
            issuers[program] = call(w.p.programs.functions.state(program))[0]
        orders.append(
            Order(
                st.order_id,
                program,
                enterprise,
                institution,
                category,
                o[10],
                o[11],
                o[6],
                o[7],
                ts(st.confirmed),
                org(issuers[program])[2],
                org(institution)[2],
            )
        )
    # every order on the chain is one the scene settled
    assert call(w.p.orders.functions.orderCount()) == len(orders)
    for receipt in year.issued:
        for e in w.events(receipt, w.p.programs, "VouchersIssued"):
            org(e["args"]["enterpriseOrg"])
    return orders, orgs


def test_redeemed_per_program_equals_the_orders(
    year: Year, chain: tuple[list[Order], dict[int, Any]]
) -> None:
    orders, _ = chain
    by_program: dict[int, int] = defaultdict(int)
    for o in orders:
        by_program[o.program] += o.voucher
    for pid, value in by_program.items():
        assert value == call(year.world.p.programs.functions.state(pid))[8]  # redeemedUnits


def test_category_report(year: Year, chain: tuple[list[Order], dict[int, Any]]) -> None:
    orders, _ = chain
    want: dict[int, dict[str, int]] = {}
    for o in orders:
        row = want.setdefault(
            o.category,
            {"category": o.category, "orders": 0, "settled": 0, "voucher_paid": 0},
        )
        row["orders"] += 1
        row["settled"] += 1
        row["voucher_paid"] += o.voucher
        row["own_funds_paid"] = row.get("own_funds_paid", 0) + o.own
        row["total_paid"] = row.get("total_paid", 0) + o.voucher + o.own
    with year.sessions() as s:
        got = reports.category_report(s)
    assert got == [want[k] for k in sorted(want)]
    assert len(got) == 2  # testing and cooperative R&D


def test_institution_report(year: Year, chain: tuple[list[Order], dict[int, Any]]) -> None:
    orders, orgs = chain
    by_inst: dict[int, list[Order]] = defaultdict(list)
    for o in orders:
        by_inst[o.institution].append(o)
    want = []
    for inst in sorted(by_inst):
        mine = by_inst[inst]
        voucher, own = sum(o.voucher for o in mine), sum(o.own for o in mine)
        days = statistics.fmean((o.settled - o.placed) / DAY for o in mine)
        want.append(
            {
                "institution_org": inst,
                "region": orgs[inst][2],
                "services": len(mine),
                "voucher_paid": voucher,
                "own_funds_paid": own,
                "total_paid": voucher + own,
                "avg_days_order_to_payment": round(days, 3),
            }
        )
    with year.sessions() as s:
        got = reports.institution_report(s)
    assert got == want
    assert len(got) == 5 and sum(r["services"] for r in got) == len(year.settled)


def test_flow_matrix(year: Year, chain: tuple[list[Order], dict[int, Any]]) -> None:
    orders, _ = chain
    want: dict[tuple[int, int], dict[str, int]] = {}
    for o in orders:
        key = (_province(o.issuer_region), _province(o.institution_region))
        row = want.setdefault(
            key,
            {"issuer_region": key[0], "institution_region": key[1], "orders": 0, "voucher_paid": 0},
        )
        row["orders"] += 1
        row["voucher_paid"] += o.voucher
    with year.sessions() as s:
        got = reports.flow_report(s)
    assert got == [want[k] for k in sorted(want)]
    assert len(got) == 9  # three issuer provinces × three institution provinces, all used


def _stats(values: list[int]) -> dict[str, float | int]:
    """count, mean, median (upper for an even count), 90th percentile (nearest rank), max."""
    v = sorted(values)
    return {
        "count": len(v),
        "mean": round(sum(v) / len(v), 3),
        "p50": float(v[len(v) // 2]),
        "p90": float(v[min(len(v) - 1, len(v) * 9 // 10)]),
        "max": v[-1],
    }


def test_latency_report(year: Year, chain: tuple[list[Order], dict[int, Any]]) -> None:
    orders, _ = chain
    want = {
        "order_to_delivery": _stats([o.delivered - o.placed for o in orders]),
        "delivery_to_confirmation": _stats([o.settled - o.delivered for o in orders]),
        # payment is in the confirming transaction (the fixture found VouchersRedeemed there)
        "confirmation_to_payment": _stats([0] * len(orders)),
        "order_to_payment": _stats([o.settled - o.placed for o in orders]),
    }
    with year.sessions() as s:
        got = reports.latency_report(s)
    assert got == want
    # the planted fast confirmation waited nothing; clean orders waited over a day
    assert got["delivery_to_confirmation"]["max"] >= 6 * DAY
    assert got["delivery_to_confirmation"]["p50"] >= DAY


def test_enterprise_report(year: Year, chain: tuple[list[Order], dict[int, Any]]) -> None:
    orders, orgs = chain
    w = year.world
    issued: dict[int, int] = defaultdict(int)
    for receipt in year.issued:
        for e in w.events(receipt, w.p.programs, "VouchersIssued"):
            issued[e["args"]["enterpriseOrg"]] += e["args"]["value"]
    used: dict[int, int] = defaultdict(int)
    for o in orders:
        used[o.enterprise] += o.voucher
    bands = {"<=20": (0, 20), "21-100": (21, 100), "101-300": (101, 300), ">300": (301, 2**32)}
    by_size: dict[str, dict[str, Any]] = {
        b: {"band": b, "enterprises": 0, "issued": 0, "used": 0} for b in bands
    }
    by_industry: dict[int, dict[str, Any]] = {}
    for ent, value in issued.items():
        employees, industry = orgs[ent][3], orgs[ent][4]
        band = next(b for b, (lo, hi) in bands.items() if lo <= employees <= hi)
        for row in (
            by_size[band],
            by_industry.setdefault(
                industry, {"industry": industry, "enterprises": 0, "issued": 0, "used": 0}
            ),
        ):
            row["enterprises"] += 1
            row["issued"] += value
            row["used"] += used[ent]
    with year.sessions() as s:
        got = reports.enterprise_report(s)
    for got_row in [*got["by_size"], *got["by_industry"]]:
        assert got_row.pop("share") == round(got_row["enterprises"] / len(issued), 6)
    assert got["by_size"] == list(by_size.values())
    assert got["by_industry"] == [by_industry[k] for k in sorted(by_industry)]
    assert sum(1 for r in got["by_size"] if r["enterprises"]) >= 3  # the scene's sizes vary
