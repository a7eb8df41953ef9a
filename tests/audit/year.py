"""The simulated year the audit tests share (built once per test session of tests/audit, see
the ``year`` fixture in conftest.py): three regions' programs, institutions in three provinces,
clean orders spread over months, planted anomalies, then the budget cycle's end — a revocation,
one program closed with its unused escrow returned to finance and one rolled into next year's.

The scene keeps every receipt it got while driving the chain, so tests can recompute the
reports from the chain's own answers without reading the indexer's tables.

``VOUCHER_CHAIN_AUDIT_YEAR_ORDERS`` (default 150) sets the number of clean orders; above 150
they are placed and delivered in batches, one day's wait per batch, so the year still spans
~5 months (an opt-in; docs/audit.md gives the command and its time).
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3
from web3.types import TxReceipt

from tests.world import BEIJING, DAY, HANGZHOU, SHANGHAI, SHANGHAI_PUDONG, YUAN, ZHEJIANG, World
from voucher_chain.audit.db import open_database
from voucher_chain.audit.indexer import Indexer
from voucher_chain.contracts import Category, call

__all__ = ["Settlement", "Year", "clean_orders", "simulate_year"]

DEFAULT_CLEAN_ORDERS = 150


def clean_orders() -> int:
    """How many clean orders the year has (``VOUCHER_CHAIN_AUDIT_YEAR_ORDERS``, default 150)."""
    raw = os.environ.get("VOUCHER_CHAIN_AUDIT_YEAR_ORDERS", str(DEFAULT_CLEAN_ORDERS))
    if not raw.isdigit() or int(raw) < DEFAULT_CLEAN_ORDERS:
        raise ValueError(
            f"VOUCHER_CHAIN_AUDIT_YEAR_ORDERS must be a whole number ≥ {DEFAULT_CLEAN_ORDERS}, "
            f"not {raw!r}"
        )
    return int(raw)


@dataclass(frozen=True)
class Settlement:
    """An order the scene drove to settlement, with the receipts of its three steps."""

    order_id: int
    placed: TxReceipt
    delivered: TxReceipt
    confirmed: TxReceipt


@dataclass
class Year:
    world: World
    sessions: sessionmaker[Session]
    clean: int  # clean orders
    planted: dict[str, Any] = field(default_factory=dict)
    settled: list[Settlement] = field(default_factory=list)
    issued: list[TxReceipt] = field(default_factory=list)
    revoked: list[TxReceipt] = field(default_factory=list)
    closed: dict[int, TxReceipt] = field(default_factory=dict)  # program → its close receipt
    finance: dict[int, Any] = field(default_factory=dict)  # program → its finance bureau (Org)


class _Driver:
    def __init__(self, world: World, year: Year) -> None:
        self.world, self.year = world, year

    def place(self, ent: Any, service: int, program: int, price: int) -> tuple[int, TxReceipt]:
        units = price // 2
        fn = self.world.p.orders.functions.placeOrder(
            service, 1, program, units, price - units, self.world.request_id()
        )
        receipt = self.world.send(fn, ent)
        order = int(self.world.event(receipt, self.world.p.orders, "OrderPlaced")["orderId"])
        return order, receipt

    def confirm(self, ent: Any, order: int, placed: TxReceipt, delivered: TxReceipt) -> int:
        confirmed = self.world.send(self.world.p.orders.functions.confirm(order), ent)
        self.year.settled.append(Settlement(order, placed, delivered, confirmed))
        return order

    def settle(self, ent: Any, inst: Any, service: int, program: int, price: int, wait: int) -> int:
        order, placed = self.place(ent, service, program, price)
        delivered = self.world.deliver(inst, order)
        if wait:
            self.world.travel(wait)
        return self.confirm(ent, order, placed, delivered)

    def issue(self, issuer: Any, program: int, ent: Any, units: int) -> None:
        self.year.issued.append(self.world.issue(issuer, program, ent, units))


def simulate_year(world: World, db_dir: Path) -> Iterator[Year]:
    """Drives the year on ``world``'s chain, indexes it into ``db_dir``, yields the record."""
    engine, sessions = open_database(db_dir / "audit.sqlite3")
    year = Year(world=world, sessions=sessions, clean=clean_orders())
    _drive(world, year)
    Indexer(world.p, sessions).sync()
    try:
        yield year
    finally:
        engine.dispose()


def _drive(world: World, year: Year) -> None:
    d = _Driver(world, year)
    rng = random.Random(7)
    planted = year.planted
    regions = (SHANGHAI, ZHEJIANG, BEIJING)
    # each enterprise pays ¥5,000 in vouchers and ¥5,000 of its own per clean order; ten orders'
    # worth more covers the planted orders (at most ¥25,000 of vouchers for one enterprise)
    per_ent = math.ceil(year.clean / 9) + 10
    grant = max(150_000, per_ent * 5_000) * YUAN
    programs, ents, issuers = {}, {}, {}
    for region in regions:
        issuer, finance = world.issuer(region), world.finance(region)
        issuers[region] = (issuer, finance)
        programs[region] = world.program(
            issuer,
            finance,
            budget=max(2_000_000 * YUAN, 4 * grant),
            full_cover_threshold=5_000 * YUAN,
        )
        year.finance[programs[region]] = finance
        ents[region] = [
            world.enterprise(region + 100 + i, employees=rng.choice((8, 20, 60, 150)))
            for i in range(3)
        ]
        for ent in ents[region]:
            d.issue(issuer, programs[region], ent, grant)
            world.deposit(ent, max(400_000 * YUAN, 2 * grant))
    insts = [world.institution(r) for r in (SHANGHAI_PUDONG, SHANGHAI, HANGZHOU, ZHEJIANG, BEIJING)]
    services = [world.list_service(inst, Category.TESTING, 10_000 * YUAN) for inst in insts]
    batch = math.ceil(year.clean / DEFAULT_CLEAN_ORDERS)
    for start in range(0, year.clean, batch):
        pending = []
        for i in range(start, min(start + batch, year.clean)):
            region = regions[i % 3]
            k = rng.randrange(len(insts))
            ent = ents[region][(i // 3) % 3]
            order, placed = d.place(ent, services[k], programs[region], 10_000 * YUAN)
            pending.append((ent, order, placed, world.deliver(insts[k], order)))
        world.travel(DAY + 3600)
        for ent, order, placed, delivered in pending:
            d.confirm(ent, order, placed, delivered)
    _plant(world, d, planted, programs, ents, issuers, insts, services)
    planted["programs"] = programs
    _end_of_year(world, d, programs, ents, issuers)


def _plant(
    world: World,
    d: _Driver,
    planted: dict[str, Any],
    programs: dict[int, int],
    ents: dict[int, list[Any]],
    issuers: dict[int, tuple[Any, Any]],
    insts: list[Any],
    services: list[int],
) -> None:
    # planted: a ¥20,000 order confirmed at once
    big = world.list_service(insts[0], Category.COOPERATIVE_RD, 20_000 * YUAN)
    planted["fast"] = d.settle(
        ents[SHANGHAI][0], insts[0], big, programs[SHANGHAI], 20_000 * YUAN, 0
    )
    world.travel(3 * DAY)
    # planted: three ¥2,000 orders, each under the ¥5,000 full-cover threshold, in two days
    small = world.list_service(insts[1], Category.TESTING, 2_000 * YUAN)
    planted["split"] = [
        d.settle(ents[ZHEJIANG][1], insts[1], small, programs[ZHEJIANG], 2_000 * YUAN, DAY // 2)
        for _ in range(3)
    ]
    world.travel(3 * DAY)
    # planted: an institution at 5× its peers' price
    dear = world.list_service(insts[2], Category.TESTING, 50_000 * YUAN)
    planted["dear"] = d.settle(
        ents[BEIJING][2], insts[2], dear, programs[BEIJING], 50_000 * YUAN, 6 * DAY
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
        d.settle(ents[SHANGHAI][1], insts[3], repriced, programs[SHANGHAI], 20_000 * YUAN, 3 * DAY),
        repriced,
        insts[3].id,
    )
    # planted: a second Beijing program whose money goes 60% to one institution (three
    # enterprises, one order each there, so no pair looks split) and 20% to each of two others
    issuer, finance = issuers[BEIJING]
    lopsided = world.program(issuer, finance, budget=200_000 * YUAN)
    for ent in ents[BEIJING]:
        d.issue(issuer, lopsided, ent, 20_000 * YUAN)
    beijing = ents[BEIJING]
    for ent, k in zip((*beijing, beijing[0], beijing[1]), (4, 4, 4, 0, 1), strict=True):
        d.settle(ent, insts[k], services[k], lopsided, 10_000 * YUAN, DAY + 3600)
    planted["concentration"] = (lopsided, insts[4].id)
    # planted: an institution pays 40% of an order back to a shell company that shares the
    # ordering enterprise's declared affiliation (two more Zhejiang enterprises)
    group = Web3.keccak(text="a family of companies")
    client = world.enterprise(ZHEJIANG + 100, affiliation=group)
    shell = world.enterprise(ZHEJIANG + 100, affiliation=group)
    zhejiang_issuer, _ = issuers[ZHEJIANG]
    d.issue(zhejiang_issuer, programs[ZHEJIANG], client, 20_000 * YUAN)
    world.deposit(client, 20_000 * YUAN)
    world.travel(DAY)
    d.settle(client, insts[3], services[3], programs[ZHEJIANG], 10_000 * YUAN, DAY + 3600)
    world.send(world.p.settlement.functions.transfer(shell.account, 4_000 * YUAN), insts[3])
    planted["affiliate_trip"] = (insts[3].id, client.id, shell.id)


def _end_of_year(
    world: World,
    d: _Driver,
    programs: dict[int, int],
    ents: dict[int, list[Any]],
    issuers: dict[int, tuple[Any, Any]],
) -> None:
    """Beijing's issuer claws back ¥12,345.67 of one enterprise's vouchers; Zhejiang names its
    2027 program to receive this year's unused escrow; after the settlement deadline Shanghai's
    finance bureau closes its program (vouchers expire, the escrow goes back to it) and
    Zhejiang's issuer closes its own (vouchers expire, the escrow rolls over). Beijing's
    programs stay open."""
    beijing_issuer, _ = issuers[BEIJING]
    revoke = world.p.programs.functions.revoke(programs[BEIJING], ents[BEIJING][0].id, 1_234_567, 7)
    d.year.revoked.append(world.send(revoke, beijing_issuer))
    zhejiang_issuer, zhejiang_finance = issuers[ZHEJIANG]
    next_year = world.program(zhejiang_issuer, zhejiang_finance, budget=0, fiscal_year=2027)
    d.year.finance[next_year] = zhejiang_finance
    world.send(
        world.p.programs.functions.setRollover(programs[ZHEJIANG], next_year), zhejiang_issuer
    )
    d.year.planted["next_year"] = next_year
    deadline = max(_deadline(world, programs[r]) for r in (SHANGHAI, ZHEJIANG))
    world.travel(deadline - world.now() + 1)
    _, shanghai_finance = issuers[SHANGHAI]
    for program, closer in (
        (programs[SHANGHAI], shanghai_finance),
        (programs[ZHEJIANG], zhejiang_issuer),
    ):
        d.year.closed[program] = world.send(world.p.programs.functions.close(program), closer)


def _deadline(world: World, program: int) -> int:
    return int(call(world.p.programs.functions.terms(program))[17])  # settlementDeadline
