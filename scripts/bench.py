"""Benchmark (not a test): the embedded node against an external node on the same workload.

One run, one chain after the other (never both at once: they would share the cores): the
embedded node as ``voucher-chain node --dev`` runs it (a subprocess over HTTP; its default
20 ms block interval and one read worker unless ``--block-interval-ms``/``--read-workers``),
then Anvil (tests/external/anvil.py, in its default automine mode). On each, the workload of
``bench_workload.py``: ``--enterprises`` enterprises, each with its own institution, placing,
having delivered and confirming ``--orders`` orders concurrently through the SDK. Printed per
chain: settled orders/s, p50/p99 from submitting the confirm (the payment: the institution is
paid in that transaction) to its receipt with the ``OrderSettled`` event, gas per operation,
JSON-RPC requests per order with each method's mean latency, and the CPU per settled order of
the node's processes (``/proc``: the node and its read workers) and of the client (this
process); then the ratio between the chains and whether the goal (embedded ≥ external in
orders/s, embedded p99 ≤ 500 ms) is met.

The machine this runs on is a shared VM whose speed drifts by 10–25 % within minutes, and the
chains run one after the other: one round's ratio can be the drift's. ``--rounds N`` repeats the
whole comparison N times on fresh chains, alternating which chain goes first, and judges the
goal on the median of the rounds' ratios and on the p99 of every embedded confirm of all rounds.

Before the timed part, each enterprise settles ``--warmup`` orders (default 1) on each chain,
not timed: the first execution of each code path costs the embedded node the compiling of its
opcode segments (~0.4 s of CPU per process for this workload, once per process; see
docs/node.md), and the client and Anvil their own first-call costs. ``--warmup 0`` times a
cold start.

    scripts/bench [--enterprises 8] [--orders 25] [--chains embedded,anvil] [--rounds 1]
                  [--warmup 1]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # scripts.bench_workload, tests.external.anvil

from web3 import HTTPProvider, Web3  # noqa: E402
from web3.types import RPCEndpoint  # noqa: E402

from scripts.bench_workload import (  # noqa: E402
    OPERATIONS,
    Result,
    Workload,
    cpu_seconds,
    machine,
)
from voucher_chain.contracts import Protocol, deploy_protocol  # noqa: E402
from voucher_chain.contracts.deploy import DEV_GOVERNOR_CODE  # noqa: E402
from voucher_chain.node.keys import decrypt_key, passphrase_from_env  # noqa: E402
from voucher_chain.signer import Keystore  # noqa: E402

GOAL_P99_MS = 500.0


class CountingProvider(HTTPProvider):
    """Counts JSON-RPC requests by method (what the SDK asks of the node per order)."""

    def __init__(self, url: str) -> None:
        super().__init__(url, request_kwargs={"timeout": 60})
        self.counts: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        # below web3's request cache: only what goes over the wire is counted
        t0 = time.perf_counter()
        try:
            return super()._make_request(method, request_data)
        finally:
            with self._lock:
                self.counts[method] += 1
                self.seconds[method] += time.perf_counter() - t0


@dataclass
class Chain:
    w3: Web3
    protocol: Protocol
    governor_key: str
    gas_fee: bool
    description: str
    pid: int


@contextmanager
def embedded(tmp: Path, block_interval_ms: int | None, read_workers: int | None) -> Iterator[Chain]:
    """``voucher-chain node --dev`` in a subprocess on a free port."""
    data_dir = tmp / "node"
    args = [sys.executable, "-m", "voucher_chain.cli", "node", "--dev"]
    args += ["--data-dir", str(data_dir), "--port", "0"]
    if block_interval_ms is not None:
        args += ["--block-interval-ms", str(block_interval_ms)]
    if read_workers is not None:
        args += ["--read-workers", str(read_workers)]
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        w3 = Web3(CountingProvider(info["url"]))
        key = decrypt_key((data_dir / "authority.key").read_text(), passphrase_from_env(dev=True))
        interval = block_interval_ms if block_interval_ms is not None else "default (20)"
        workers = read_workers if read_workers is not None else "default (1)"
        yield Chain(
            w3=w3,
            protocol=Protocol.at(w3, info["protocol"]),
            governor_key="0x" + bytes(key).hex(),
            gas_fee=False,
            description=f"{w3.client_version}, block interval {interval} ms, "
            f"read workers {workers}",
            pid=process.pid,
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def anvil() -> Iterator[Chain]:
    from tests.external.anvil import ANVIL_DEV_KEY, Anvil

    with Anvil(accounts=1) as node:
        w3 = Web3(CountingProvider(node.url))
        governor = w3.eth.accounts[0]
        if governor != Web3.to_checksum_address(w3.eth.account.from_key(ANVIL_DEV_KEY).address):
            raise RuntimeError("Anvil's first account is not the expected dev account")
        protocol = deploy_protocol(
            w3, governor, governor_credit_code_hash=Web3.keccak(text=DEV_GOVERNOR_CODE)
        )
        yield Chain(
            w3=w3,
            protocol=protocol,
            governor_key=ANVIL_DEV_KEY,
            gas_fee=True,
            description=f"{w3.client_version}, automine",
            pid=node.pid,
        )


def bench(name: str, chain: Chain, args: argparse.Namespace, tmp: Path) -> Result:
    keystore = Keystore.create(tmp / f"{name}-keys.json", master_key=secrets.token_bytes(32))
    governor = keystore.import_key(chain.governor_key, org_id=1, label="governor")
    work = Workload(chain.w3, chain.protocol, keystore, governor, gas_fee=chain.gas_fee)
    t0 = time.perf_counter()
    pairs = work.setup(args.enterprises, args.orders + args.warmup)
    setup = time.perf_counter() - t0
    print(f"{name:<9} {chain.description}; setup {setup:.1f} s", flush=True)
    if args.warmup:  # not timed: first executions of each code path (both chains alike)
        warm = work.run(f"{name}-warmup", pairs, args.warmup)
        if warm.failures:
            raise RuntimeError(f"{name}: the warm-up failed: {warm.failures[0]}")
    provider = chain.w3.provider
    assert isinstance(provider, CountingProvider)
    before, before_s = Counter(provider.counts), dict(provider.seconds)
    node_cpu, client_cpu = cpu_seconds(chain.pid), time.process_time()
    result = work.run(name, pairs, args.orders)
    result.node_cpu = cpu_seconds(chain.pid) - node_cpu
    result.client_cpu = time.process_time() - client_cpu
    result.request_ms = {
        m: 1000 * (provider.seconds[m] - before_s.get(m, 0.0)) / n
        for m, n in (provider.counts - before).items()
    }
    result.setup_seconds = setup
    result.requests = dict(provider.counts - before)
    return result


def report(results: list[Result]) -> None:
    print()
    print(
        f"{'chain':<9} {'orders':>6} {'seconds':>8} {'orders/s':>9} "
        f"{'confirm→paid p50':>17} {'p99':>9} {'blocks':>7} {'failures':>8}"
    )
    for r in results:
        print(
            f"{r.chain:<9} {r.orders:>6} {r.seconds:>8.2f} {r.orders_per_second:>9.2f} "
            f"{r.percentile(0.5):>14.1f} ms {r.percentile(0.99):>6.1f} ms {r.blocks:>7} "
            f"{len(r.failures):>8}"
        )
    for r in results:
        for failure in r.failures[:3]:
            print(f"  {r.chain} failure: {failure}")
    print("\ngas per operation (mean of up to 50 receipts each):")
    print(f"  {'chain':<9}" + "".join(f"{op:>10}" for op in OPERATIONS))
    for r in results:
        used = r.gas_per_operation()
        print(
            f"  {r.chain:<9}"
            + "".join(f"{used.get(op, float('nan')):>10,.0f}" for op in OPERATIONS)
        )
    print("\nJSON-RPC requests per settled order (timed part, incl. gas sampling), mean latency:")
    for r in results:
        per = sorted(r.requests.items(), key=lambda kv: -kv[1])
        total = sum(r.requests.values()) / max(r.orders, 1)
        top = ", ".join(
            f"{m} {n / max(r.orders, 1):.1f} × {r.request_ms.get(m, 0):.0f} ms" for m, n in per[:6]
        )
        print(f"  {r.chain:<9} {total:6.1f}: {top}")
    print(
        "\nCPU per settled order (timed part): the node's processes (with read workers), "
        "the client's (this one):"
    )
    for r in results:
        n = max(r.orders, 1)
        print(
            f"  {r.chain:<9} node {1000 * r.node_cpu / n:6.1f} ms, "
            f"client {1000 * r.client_cpu / n:6.1f} ms"
        )
    by_name = {r.chain: r for r in results}
    if "embedded" in by_name and "anvil" in by_name:
        ours, theirs = by_name["embedded"], by_name["anvil"]
        ratio = ours.orders_per_second / theirs.orders_per_second
        print(
            f"\nembedded / anvil: orders/s ×{ratio:.2f}; p50 ×"
            f"{ours.percentile(0.5) / theirs.percentile(0.5):.2f}; p99 ×"
            f"{ours.percentile(0.99) / theirs.percentile(0.99):.2f}"
        )
        verdict(ratio, ours.percentile(0.99))


def verdict(ratio: float, p99_ms: float) -> None:
    met = ratio >= 1.0 and p99_ms <= GOAL_P99_MS
    print(
        f"goal (embedded ≥ anvil orders/s and embedded p99 ≤ {GOAL_P99_MS:.0f} ms): "
        + ("MET" if met else "NOT MET")
    )


def summary(rounds: list[list[Result]]) -> None:
    """Across rounds: each round's ratio, their median, and the p99 of all embedded confirms."""
    pairs = [
        (by["embedded"], by["anvil"])
        for by in ({r.chain: r for r in results} for results in rounds)
        if "embedded" in by and "anvil" in by
    ]
    if not pairs:
        return
    ratios = [ours.orders_per_second / theirs.orders_per_second for ours, theirs in pairs]
    pooled = Result(
        chain="embedded",
        orders=sum(ours.orders for ours, _ in pairs),
        seconds=sum(ours.seconds for ours, _ in pairs),
        confirm_latencies=[x for ours, _ in pairs for x in ours.confirm_latencies],
        gas={},
    )
    print(f"\n## {len(pairs)} rounds")
    for i, ((ours, theirs), ratio) in enumerate(zip(pairs, ratios, strict=True), start=1):
        print(
            f"round {i}: embedded {ours.orders_per_second:6.2f}/s, anvil "
            f"{theirs.orders_per_second:6.2f}/s, ×{ratio:.2f}; embedded p99 "
            f"{ours.percentile(0.99):.1f} ms"
        )
    wins = sum(ratio >= 1.0 for ratio in ratios)
    print(
        f"median ratio ×{statistics.median(ratios):.2f} (embedded ahead in {wins} of "
        f"{len(ratios)}); embedded p99 over all rounds {pooled.percentile(0.99):.1f} ms"
    )
    verdict(statistics.median(ratios), pooled.percentile(0.99))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--enterprises", type=int, default=8, help="concurrent pairs")
    parser.add_argument("--orders", type=int, default=25, help="orders per enterprise")
    parser.add_argument("--chains", default="embedded,anvil", help="comma-separated, in order")
    parser.add_argument(
        "--block-interval-ms", type=int, default=None, help="embedded node (default: its own)"
    )
    parser.add_argument(
        "--read-workers", type=int, default=None, help="embedded node (default: its own)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="whole comparisons, first chain alternating"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="orders per enterprise settled before the timed part, on each chain (default 1)",
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must be 0 or more")
    chains = [c.strip() for c in args.chains.split(",") if c.strip()]
    unknown = set(chains) - {"embedded", "anvil"}
    if unknown:
        parser.error(f"unknown chain(s): {', '.join(sorted(unknown))}")
    print("# scripts/bench")
    print(f"date:     {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine:  {machine()}, load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"workload: {args.enterprises} enterprises × {args.orders} orders "
        "(place → accept → deliver → confirm, 4 transactions an order), through the SDK; "
        f"{args.warmup} order(s) per enterprise first, not timed",
        flush=True,
    )
    rounds: list[list[Result]] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for number in range(1, args.rounds + 1):
            order = chains if number % 2 else chains[::-1]
            if args.rounds > 1:
                print(f"\n## round {number} of {args.rounds}: {', '.join(order)}", flush=True)
            workdir = Path(tmp) / f"round-{number}"
            workdir.mkdir()
            results = []
            for name in order:
                source = (
                    embedded(workdir, args.block_interval_ms, args.read_workers)
                    if name == "embedded"
                    else anvil()
                )
                with source as chain:
                    results.append(bench(name, chain, args, workdir))
            report(sorted(results, key=lambda r: chains.index(r.chain)))
            rounds.append(results)
    if args.rounds > 1:
        summary(rounds)
    print(f"end:      {datetime.now(UTC):%H:%M} UTC, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
