"""Benchmark of the audit indexer: events/s indexing a chain from scratch, and the lag behind
the head while the chain is under load.

1. Load: ``--orders`` orders (place, accept, deliver, confirm: 4 transactions, automine = one
   block each) are generated on the in-process py-evm chain while an :class:`Indexer` follows it
   in a thread (polling every ``--poll`` s); the lag (chain head − indexed head, in blocks) is
   sampled every 0.1 s.
2. Catch-up: a fresh SQLite index of the whole chain: blocks/s and events/s.

Both threads share one CPython process and eth-tester (serialised by a lock), so the lag
includes the contention between producing and indexing on the same cores.

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
from typing import Any

from web3 import EthereumTesterProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from voucher_chain.audit.db import open_database
from voucher_chain.audit.indexer import Indexer
from voucher_chain.contracts import Category, Protocol
from voucher_chain.sandbox import BEIJING, DAY, HANGZHOU, SHANGHAI, YUAN, ZHEJIANG, World, sandbox


class LockedProvider(EthereumTesterProvider):
    """eth-tester is not thread-safe: the generator and the indexer take turns."""

    def __init__(self, tester: Any) -> None:
        super().__init__(tester)
        self._lock = threading.Lock()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self._lock:
            return super().make_request(method, params)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--poll", type=float, default=0.2)
    args = parser.parse_args()
    base = sandbox(accounts=40)
    w3 = Web3(LockedProvider(base.tester))
    protocol = Protocol.at(w3, base.p.addresses())
    world = World(tester=base.tester, w3=w3, protocol=protocol)
    with tempfile.TemporaryDirectory() as tmp:
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
        engine.dispose()
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


if __name__ == "__main__":
    main()
