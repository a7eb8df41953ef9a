"""A simulated year on the embedded node: three regions' programs, institutions in three
provinces, clean orders spread over months, and planted anomalies. Every report total equals
the contracts' state, each planted anomaly is flagged with its reason and clean traffic raises
none; verify passes, then catches a tampered index row."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.audit.conftest import node_world
from tests.world import BEIJING, DAY, HANGZHOU, SHANGHAI, SHANGHAI_PUDONG, YUAN, ZHEJIANG, World
from voucher_chain.audit import anomalies, reports
from voucher_chain.audit.db import open_database
from voucher_chain.audit.indexer import Indexer
from voucher_chain.audit.models import OrderRow, ProgramRow
from voucher_chain.audit.verify import verify
from voucher_chain.contracts import Category, call

CLEAN_ORDERS = 150  # 5 blocks each (4 transactions and a time travel)


def _settle(
    world: World, ent: Any, inst: Any, service: int, program: int, price: int, wait: int
) -> int:
    order = world.place(ent, service, program, price // 2, price - price // 2)
    world.deliver(inst, order)
    if wait:
        world.travel(wait)
    world.send(world.p.orders.functions.confirm(order), ent)
    return order


@pytest.fixture(scope="module")
def year(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[World, sessionmaker[Session], dict[str, Any]]]:
    with node_world(tmp_path_factory.mktemp("node")) as (world, _):
        yield from _year(world, tmp_path_factory)


def _year(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, sessionmaker[Session], dict[str, Any]]]:
    rng = random.Random(7)
    planted: dict[str, Any] = {}
    regions = (SHANGHAI, ZHEJIANG, BEIJING)
    programs, ents = {}, {}
    for region in regions:
        issuer, finance = world.issuer(region), world.finance(region)
        programs[region] = world.program(
            issuer, finance, budget=2_000_000 * YUAN, full_cover_threshold=5_000 * YUAN
        )
        ents[region] = [
            world.enterprise(region + 100 + i, employees=rng.choice((8, 20, 60, 150)))
            for i in range(3)
        ]
        for ent in ents[region]:
            world.issue(issuer, programs[region], ent, 150_000 * YUAN)
            world.deposit(ent, 400_000 * YUAN)
    insts = [world.institution(r) for r in (SHANGHAI_PUDONG, SHANGHAI, HANGZHOU, ZHEJIANG, BEIJING)]
    services = [world.list_service(inst, Category.TESTING, 10_000 * YUAN) for inst in insts]
    for i in range(CLEAN_ORDERS):
        region = regions[i % 3]
        k = rng.randrange(len(insts))
        ent = ents[region][(i // 3) % 3]
        _settle(world, ent, insts[k], services[k], programs[region], 10_000 * YUAN, DAY + 3600)
    # planted: a ¥20,000 order confirmed at once
    big = world.list_service(insts[0], Category.COOPERATIVE_RD, 20_000 * YUAN)
    planted["fast"] = _settle(
        world, ents[SHANGHAI][0], insts[0], big, programs[SHANGHAI], 20_000 * YUAN, 0
    )
    world.travel(3 * DAY)
    # planted: three ¥2,000 orders, each under the ¥5,000 full-cover threshold, in two days
    small = world.list_service(insts[1], Category.TESTING, 2_000 * YUAN)
    planted["split"] = [
        _settle(
            world, ents[ZHEJIANG][1], insts[1], small, programs[ZHEJIANG], 2_000 * YUAN, DAY // 2
        )
        for _ in range(3)
    ]
    world.travel(3 * DAY)
    # planted: an institution at 5× its peers' price
    dear = world.list_service(insts[2], Category.TESTING, 50_000 * YUAN)
    planted["dear"] = _settle(
        world, ents[BEIJING][2], insts[2], dear, programs[BEIJING], 50_000 * YUAN, 6 * DAY
    )
    # planted: the institution pays half back to the enterprise
    world.send(
        world.p.settlement.functions.transfer(ents[BEIJING][2].account, 25_000 * YUAN), insts[2]
    )
    planted["round_trip"] = (insts[2].id, ents[BEIJING][2].id)
    planted["programs"] = programs
    engine, sessions = open_database(tmp_path_factory.mktemp("year") / "audit.sqlite3")
    Indexer(world.p, sessions).sync()
    yield world, sessions, planted
    engine.dispose()


def test_report_totals_equal_contract_state(
    year: tuple[World, sessionmaker[Session], dict[str, Any]],
) -> None:
    world, sessions, _ = year
    with sessions() as s:
        summary = reports.summary_report(s)
    p = world.p.programs.functions
    count = call(p.programCount())
    assert len(summary["programs"]) == count == 3
    for fig in summary["programs"]:
        state = call(p.state(fig.program_id))
        assert fig.funded == state[3] and fig.paid == state[5] and fig.returned == state[6]
        assert fig.issued == state[7]  # face value 1 fen a unit
        assert fig.redeemed == state[8]
        assert fig.escrowed == call(p.escrowed(fig.program_id))
        assert fig.outstanding == call(p.outstandingValue(fig.program_id))
    totals = summary["totals"]
    assert totals.redeemed == sum(call(p.state(i))[8] for i in range(1, count + 1))
    assert totals.services == CLEAN_ORDERS + 5
    assert totals.enterprises == 9 and totals.institutions == 5
    assert [r.region for r in summary["regions"]] == [BEIJING, SHANGHAI, ZHEJIANG]
    assert [r.enterprises for r in summary["regions"]] == [3, 3, 3]
    assert sum(r.redeemed for r in summary["regions"]) == totals.redeemed


def test_every_planted_anomaly_is_flagged_and_nothing_else(
    year: tuple[World, sessionmaker[Session], dict[str, Any]],
) -> None:
    _, sessions, planted = year
    with sessions() as s:
        found = anomalies.detect(s)
    by_rule: dict[str, list[anomalies.Anomaly]] = {}
    for a in found:
        by_rule.setdefault(a.rule, []).append(a)
    assert sorted(by_rule) == [
        "fast_confirmation",
        "price_above_peers",
        "round_trip",
        "split_orders",
    ], [a.explanation for a in found]
    [fast] = by_rule["fast_confirmation"]
    assert fast.orders == [planted["fast"]] and "¥20,000.00" in fast.explanation
    [split] = by_rule["split_orders"]
    assert split.orders == planted["split"] and "¥5,000.00" in split.explanation
    [dear] = by_rule["price_above_peers"]
    assert dear.orders == [planted["dear"]] and "5.0×" in dear.explanation
    [trip] = by_rule["round_trip"]
    assert trip.orgs[:2] == list(planted["round_trip"]) and "¥25,000.00" in trip.explanation


def test_verify_passes_then_catches_a_tampered_row(
    year: tuple[World, sessionmaker[Session], dict[str, Any]],
) -> None:
    world, sessions, planted = year
    with sessions() as s:
        verdict = verify(s, world.p)
    assert verdict.ok, verdict.problems
    pid = planted["programs"][SHANGHAI]
    with sessions.begin() as s:
        s.execute(
            update(ProgramRow).where(ProgramRow.program_id == pid).values(paid=ProgramRow.paid + 1)
        )
    try:
        with sessions() as s:
            verdict = verify(s, world.p)
        assert not verdict.ok
        assert any(f"program {pid} paid: index table" in p for p in verdict.problems), (
            verdict.problems
        )
    finally:
        with sessions.begin() as s:
            s.execute(
                update(ProgramRow)
                .where(ProgramRow.program_id == pid)
                .values(paid=ProgramRow.paid - 1)
            )


def test_periods_partition_the_flows_and_months_add_up(
    year: tuple[World, sessionmaker[Session], dict[str, Any]],
) -> None:
    _, sessions, _ = year
    with sessions() as s:
        whole = reports.summary_report(s)["totals"]
        months = reports.monthly_report(s)
        first = s.scalar(select(func.min(OrderRow.settled_at)))
        assert first is not None
        mid = first + 60 * DAY
        before = reports.summary_report(s, reports.Filters(until=mid))["totals"]
        after = reports.summary_report(s, reports.Filters(since=mid))["totals"]
        shanghai = reports.summary_report(s, reports.Filters(region=SHANGHAI))["totals"]
        flows = reports.flow_report(s)
    assert 0 < before.redeemed < whole.redeemed
    assert before.redeemed + after.redeemed == whole.redeemed
    assert before.services + after.services == whole.services
    assert sum(m["used"] for m in months) == whole.redeemed
    assert sum(m["issued"] for m in months) == whole.issued
    assert len({m["month"] for m in months}) >= 5
    assert shanghai.programs == 1 and shanghai.redeemed < whole.redeemed
    assert sum(f["voucher_paid"] for f in flows) == whole.redeemed
    assert any(f["issuer_region"] != f["institution_region"] for f in flows)  # cross-region use
