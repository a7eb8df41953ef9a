"""Benchmark of the audit indexer: events/s indexing a chain from scratch, and the lag behind
the head while the chain is under load.

The chain is the embedded node (automine: one block per transaction, SQLite store), served over
HTTP JSON-RPC in this process; the indexer reads it over HTTP like any external node.

1. Load: ``--orders`` orders (place, accept, deliver, confirm: 4 transactions, one block each)
   are sent while an :class:`Indexer` follows the chain in a thread (polling every ``--poll``
   s); the lag (chain head − indexed head, in blocks) is sampled every 0.1 s.
2. Catch-up: a fresh SQLite index of the whole chain: blocks/s and events/s; then ``verify``
   and the summary report's program figures against ``ProgramManager.state``.

Node, load generator and indexer share one CPython process (and its GIL) on the same cores, so
the lag includes their contention. (Not eth-tester: it finds receipts and logs by scanning
every block, so indexing it slows quadratically.)

    scripts/bench_audit [--orders 1000] [--poll 0.2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session
from web3 import Web3

from voucher_chain.audit.db import open_database
from voucher_chain.audit.indexer import Indexer
from voucher_chain.audit.reports import summary_report
from voucher_chain.audit.verify import verify
from voucher_chain.contracts import Category, Protocol
from voucher_chain.node import Node, NodeConfig, RpcServer, ensure_dev_protocol
from voucher_chain.sandbox import (
    BEIJING,
    DAY,
    HANGZHOU,
    SHANGHAI,
    YUAN,
    ZHEJIANG,
    RpcChainControl,
    World,
)


def generate(world: World, orders: int) -> None:
    regions = (SHANGHAI, ZHEJIANG, BEIJING)
    programs, ents = {}, {}
    for region in regions:
        issuer, finance = world.issuer(region), world.finance(region)
        programs[region] = world.program(issuer, finance, budget=10**12)
        ents[region] = [world.enterprise(region + 100 + i) for i in range(5)]
        for ent in ents[region]:
            world.issue(issuer, programs[region], ent, 10**10)
            world.deposit(ent, 10**10)
    insts = [world.institution(r) for r in (SHANGHAI, HANGZHOU, BEIJING)]
    services = [world.list_service(i, Category.TESTING, 10_000 * YUAN) for i in insts]
    for n in range(orders):
        region = regions[n % 3]
        ent, k = ents[region][(n // 3) % 5], n % len(insts)
        order = world.place(ent, services[k], programs[region], 5_000 * YUAN, 5_000 * YUAN)
        world.deliver(insts[k], order)
        world.send(world.p.orders.functions.confirm(order), ent)
        if n % 50 == 49:
            world.travel(DAY)


def summary_mismatches(session: Session, protocol: Protocol) -> list[str]:
    """The summary report's program figures that differ from ``ProgramManager.state``."""
    problems = []
    for fig in summary_report(session)["programs"]:
        state = protocol.programs.functions.state(fig.program_id).call()
        expected = {"funded": state[3], "paid": state[5], "issued": state[7], "redeemed": state[8]}
        for name, value in expected.items():
            if getattr(fig, name) != value:
                problems.append(f"program {fig.program_id} {name}: {getattr(fig, name)} != {value}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--poll", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        node = Node(
            NodeConfig(
                data_dir=Path(tmp) / "node",
                dev=True,
                dev_accounts=40,
                automine=True,
                frozen_clock=True,
            )
        )
        addresses = ensure_dev_protocol(node)
        server = RpcServer(node, port=0).start()
        w3 = Web3(Web3.HTTPProvider(server.url, request_kwargs={"timeout": 60}))
        world = World(tester=RpcChainControl(w3), w3=w3, protocol=Protocol.at(w3, addresses))
        reader = Web3(Web3.HTTPProvider(server.url, request_kwargs={"timeout": 60}))
        protocol = Protocol.at(reader, addresses)
        engine, sessions = open_database(Path(tmp) / "follow.sqlite3")
        indexer = Indexer(protocol, sessions)
        stop = threading.Event()
        follower = threading.Thread(
            target=indexer.follow, args=(stop,), kwargs={"poll_seconds": args.poll}
        )
        lags: list[int] = []

        def sample() -> None:
            while not stop.is_set():
                lags.append(int(w3.eth.block_number) - (indexer.cursor() or -1))
                stop.wait(0.1)

        sampler = threading.Thread(target=sample)
        follower.start()
        sampler.start()
        started = time.perf_counter()
        generate(world, args.orders)
        generated = time.perf_counter() - started
        head = int(w3.eth.block_number)
        while (indexer.cursor() or -1) < head:
            time.sleep(0.05)
        drained = time.perf_counter() - started - generated
        stop.set()
        follower.join()
        sampler.join()
        engine.dispose()
        engine, sessions = open_database(Path(tmp) / "fresh.sqlite3")
        started = time.perf_counter()
        result = Indexer(protocol, sessions).sync()
        took = time.perf_counter() - started
        with sessions() as session:
            verdict = verify(session, protocol)
            mismatches = summary_mismatches(session, protocol)
        engine.dispose()
        server.stop()
        node.close()
    ordered = sorted(lags)
    machine = platform.processor() or platform.machine()
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {machine}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; load: {os.getloadavg()}"
    )
    print(
        f"load phase: {args.orders} orders, {head + 1} blocks generated in {generated:.1f} s "
        f"({(head + 1) / generated:.1f} blocks/s); follower drained the rest {drained:.2f} s after"
    )
    print(
        f"lag behind head (blocks, sampled every 0.1 s, n={len(ordered)}): "
        f"p50 {ordered[len(ordered) // 2]}, p99 {ordered[int(len(ordered) * 0.99)]}, "
        f"max {ordered[-1]}, mean {statistics.fmean(ordered):.1f}"
    )
    print(
        f"catch-up from scratch: {result.blocks} blocks, {result.events} events in {took:.1f} s: "
        f"{result.blocks / took:.1f} blocks/s, {result.events / took:.1f} events/s"
    )
    print(f"verify: {verdict.line()}; summary vs contract state: {mismatches or 'all equal'}")


if __name__ == "__main__":
    main()
