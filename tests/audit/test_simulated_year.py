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
from web3 import Web3

from tests.audit.conftest import node_world
from tests.world import BEIJING, DAY, HANGZHOU, SHANGHAI, SHANGHAI_PUDONG, YUAN, ZHEJIANG, World
from voucher_chain.audit import anomalies, reports
from voucher_chain.audit.config import load_config
from voucher_chain.audit.db import open_database
from voucher_chain.audit.decode import from_json
from voucher_chain.audit.indexer import Indexer, latest_state_reads
from voucher_chain.audit.models import EventRow, OrderRow, ProgramRow
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
    programs, ents, issuers = {}, {}, {}
    for region in regions:
        issuer, finance = world.issuer(region), world.finance(region)
        issuers[region] = (issuer, finance)
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
    # planted: ¥20,000 charged for a service first listed at ¥10,000 and then re-priced (2× its
    # catalogue price; under 3× the peers' ¥10,000 median, so only the catalogue half fires)
    repriced = world.list_service(insts[3], Category.TESTING, 10_000 * YUAN)
    world.send(world.p.catalogue.functions.updateService(repriced, 20_000 * YUAN, True), insts[3])
    planted["catalogue"] = (
        _settle(
            world, ents[SHANGHAI][1], insts[3], repriced, programs[SHANGHAI], 20_000 * YUAN, 3 * DAY
        ),
        repriced,
        insts[3].id,
    )
    # planted: a second Beijing program whose money goes 60% to one institution (three
    # enterprises, one order each there, so no pair looks split) and 20% to each of two others
    issuer, finance = issuers[BEIJING]
    lopsided = world.program(issuer, finance, budget=200_000 * YUAN)
    for ent in ents[BEIJING]:
        world.issue(issuer, lopsided, ent, 20_000 * YUAN)
    beijing = ents[BEIJING]
    for ent, k in zip((*beijing, beijing[0], beijing[1]), (4, 4, 4, 0, 1), strict=True):
        _settle(world, ent, insts[k], services[k], lopsided, 10_000 * YUAN, DAY + 3600)
    planted["concentration"] = (lopsided, insts[4].id)
    # planted: an institution pays 40% of an order back to a shell company that shares the
    # ordering enterprise's declared affiliation (two more Zhejiang enterprises)
    group = Web3.keccak(text="a family of companies")
    client = world.enterprise(ZHEJIANG + 100, affiliation=group)
    shell = world.enterprise(ZHEJIANG + 100, affiliation=group)
    zhejiang_issuer, _ = issuers[ZHEJIANG]
    world.issue(zhejiang_issuer, programs[ZHEJIANG], client, 20_000 * YUAN)
    world.deposit(client, 20_000 * YUAN)
    world.travel(DAY)
    _settle(world, client, insts[3], services[3], programs[ZHEJIANG], 10_000 * YUAN, DAY + 3600)
    world.send(world.p.settlement.functions.transfer(shell.account, 4_000 * YUAN), insts[3])
    planted["affiliate_trip"] = (insts[3].id, client.id, shell.id)
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
    assert len(summary["programs"]) == count == 4
    for fig in summary["programs"]:
        state = call(p.state(fig.program_id))
        assert fig.funded == state[3] and fig.paid == state[5] and fig.returned == state[6]
        assert fig.issued == state[7]  # face value 1 fen a unit
        assert fig.redeemed == state[8]
        assert fig.escrowed == call(p.escrowed(fig.program_id))
        assert fig.outstanding == call(p.outstandingValue(fig.program_id))
    totals = summary["totals"]
    assert totals.redeemed == sum(call(p.state(i))[8] for i in range(1, count + 1))
    assert totals.services == CLEAN_ORDERS + 12
    assert totals.enterprises == 10 and totals.institutions == 5
    assert [r.region for r in summary["regions"]] == [BEIJING, SHANGHAI, ZHEJIANG]
    assert [r.enterprises for r in summary["regions"]] == [
        3,
        3,
        4,
    ]  # the shell company was issued nothing
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
        "concentration",
        "fast_confirmation",
        "price_above_catalogue",
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
    trips = {tuple(a.orgs): a for a in by_rule["round_trip"]}
    assert sorted(trips) == sorted([planted["round_trip"], planted["affiliate_trip"]])
    trip = trips[planted["round_trip"]]
    assert trip.subject == "institution {} ↔ enterprise {}".format(*planted["round_trip"])
    assert "sent ¥25,000.00 back: 50%" in trip.explanation
    inst, client, shell = planted["affiliate_trip"]
    via = trips[planted["affiliate_trip"]]
    assert via.subject == f"institution {inst} ↔ enterprise {client}"
    assert via.numbers == {"paid": 10_000 * YUAN, "returned": 4_000 * YUAN, "share": 0.4}
    assert (
        f"sent ¥4,000.00 back (organisation {shell}, which shares enterprise {client}'s declared "
        "affiliation): 40%" in via.explanation
    )
    [catalogue] = by_rule["price_above_catalogue"]
    order, service, inst = planted["catalogue"]
    assert catalogue.subject == f"order {order}"
    assert catalogue.orders == [order] and catalogue.orgs == [inst]
    assert catalogue.numbers == {"unit_price": 20_000 * YUAN, "listed_price": 10_000 * YUAN}
    assert (
        f"service {service} was listed at ¥10,000.00 and charged ¥20,000.00 (2.0×"
        in catalogue.explanation
    )
    [concentrated] = by_rule["concentration"]
    program, inst = planted["concentration"]
    assert concentrated.subject == f"program {program}" and concentrated.orgs == [inst]
    assert concentrated.numbers == {
        "share": 0.6,
        "institution_paid": 15_000 * YUAN,
        "program_redeemed": 25_000 * YUAN,
    }
    assert (
        f"Institution {inst} received ¥15,000.00 of the ¥25,000.00 redeemed under program "
        f"{program} (60.0%" in concentrated.explanation
    )
    assert "while 3 institutions were paid" in concentrated.explanation


def test_clean_programs_were_tested_by_the_concentration_rule(
    year: tuple[World, sessionmaker[Session], dict[str, Any]],
) -> None:
    """The clean programs pass the concentration rule's preconditions (enough institutions,
    enough money), so its silence on them is a result, not a skipped check."""
    _, sessions, planted = year
    config = load_config()
    with sessions() as s:
        rows = s.execute(select(EventRow.args).where(EventRow.name == "VouchersRedeemed"))
        paid: dict[int, dict[int, int]] = {}
        for (args,) in rows:
            a = from_json(args)
            by_inst = paid.setdefault(int(a["programId"]), {})
            by_inst[int(a["institutionOrg"])] = by_inst.get(int(a["institutionOrg"]), 0) + int(
                a["value"]
            )
    for program in planted["programs"].values():
        by_inst = paid[program]
        assert len(by_inst) >= config.concentration_min_institutions
        assert sum(by_inst.values()) >= config.concentration_min_redeemed
        assert max(by_inst.values()) / sum(by_inst.values()) <= config.concentration_share


def test_verify_passes_then_catches_a_tampered_row(
    year: tuple[World, sessionmaker[Session], dict[str, Any]],
) -> None:
    world, sessions, planted = year
    with sessions() as s:
        verdict = verify(s, world.p)
        assert latest_state_reads(s) == []  # the embedded node keeps every block's state
    assert verdict.ok, verdict.problems
    assert verdict.notes == []
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
