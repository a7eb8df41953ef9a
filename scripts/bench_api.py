"""Benchmark of the API: overhead per call over the SDK, and confirmations/s through the API.

The embedded dev node runs in this process (block interval ``--block-ms``), seeded with the demo
data (``api/demo_data.py``); the API runs in uvicorn on a loopback socket in a thread, signing
custodially with the demo keystore; the SDK is the API's own ``VoucherClient`` (a ``Submitter``
over the same keystore, on the same in-process node) — so the difference is what the API adds (HTTP,
authentication by API key, idempotency store, validation, serialisation).

1. Overhead: ``--calls`` reads (GET /vouchers vs ``programs.balances``) and ``--calls`` writes
   (POST /orders/{id}/accept vs ``orders.accept``, each on its own placed order), p50/p99.
2. Throughput, once per number in ``--clients``: ``--orders`` orders placed, accepted and
   delivered through the SDK, then confirmed through the API by that many concurrent clients
   (each request with its own Idempotency-Key): confirmations/s and p50/p99 latency.

Every loop is bounded by its count and by ``--max-seconds`` per phase.

    scripts/bench_api [--block-ms 15] [--calls 100] [--orders 100] [--clients 1,8]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from web3 import Web3

from api.auth import org_on_chain
from api.demo_data import DemoData, DemoLogin, custody_settings, ensure_demo_data
from api.live import LiveServer
from api.main import create_app
from api.settings import Settings
from voucher_chain.contracts import Category, Protocol
from voucher_chain.node import Node, NodeConfig, NodeProvider, ensure_dev_protocol
from voucher_chain.services import OrderCreate, ServiceCreate, VoucherClient
from voucher_chain.signer import Keystore

PRICE = 1_000  # fen: ¥10, half in vouchers


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def line(name: str, samples: list[float]) -> str:
    return (
        f"  {name:<38} n={len(samples):<4} p50 {pct(samples, 0.5):7.2f} ms"
        f"   p99 {pct(samples, 0.99):7.2f} ms   mean {statistics.fmean(samples) * 1000:7.2f} ms"
    )


def timed(count: int, max_seconds: float, op: Callable[[int], None]) -> list[float]:
    samples: list[float] = []
    stop = time.monotonic() + max_seconds
    for i in range(count):
        if time.monotonic() > stop:
            break
        start = time.perf_counter()
        op(i)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--block-ms", type=float, default=15.0)
    parser.add_argument("--calls", type=int, default=100, help="calls per overhead series")
    parser.add_argument("--orders", type=int, default=100, help="orders confirmed per run")
    parser.add_argument(
        "--clients",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 8],
        help="concurrent API clients, one confirmation run per number (e.g. 1,8)",
    )
    parser.add_argument("--max-seconds", type=float, default=120.0, help="bound per phase")
    args = parser.parse_args()

    print("# scripts/bench_api")
    print(f"date:     {datetime.now(UTC):%Y-%m-%d %H:%M UTC}")
    print(
        f"machine:  {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, "
        f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(
        f"params:   block interval {args.block_ms:g} ms, {args.calls} calls per overhead series, "
        f"{args.orders} orders × clients {args.clients}, ≤ {args.max_seconds:g} s per phase"
    )

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        data_dir = Path(tmp)
        t0 = time.monotonic()
        node = Node(
            NodeConfig(
                data_dir=data_dir / "node",
                dev=True,
                block_interval=args.block_ms / 1000,
                synchronous="OFF",
            )
        )
        try:
            addresses = ensure_dev_protocol(node)
            database = data_dir / "api.sqlite3"
            demo = ensure_demo_data(node, data_dir, database)
            assert demo is not None
            overrides: dict[str, Any] = custody_settings(data_dir)
            overrides.update(demo.settings_overrides())
            keystore = Keystore.open(demo.keystore_path, master_key=bytes.fromhex(demo.master_key))
            settings = Settings(
                environment="development",
                database_path=database,
                token_secret="bench-token-secret-of-at-least-32-characters",  # type: ignore[arg-type]
                **overrides,
            )
            protocol = Protocol.at(Web3(NodeProvider(node)), addresses)
            app = create_app(settings, protocol, keystore=keystore)
            # The SDK the API itself uses (a VoucherClient over a Submitter on the same keystore):
            # one nonce manager per account, shared by both paths.
            sdk: VoucherClient = app.state.context.client
            print(f"setup:    node + protocol + demo data in {time.monotonic() - t0:.1f} s")
            with LiveServer(app) as server:
                run(args, demo, sdk, server.url)
            print(f"\nend:      {datetime.now(UTC):%H:%M UTC}, load {os.getloadavg()[0]:.1f}")
        finally:
            node.close()
    return 0


def _login(demo: DemoData, name: str) -> DemoLogin:
    [login] = [x for x in demo.logins if x.name.startswith(name)]
    return login


def run(args: argparse.Namespace, demo: DemoData, sdk: VoucherClient, url: str) -> None:
    ent = _login(demo, "Pudong biochip")
    inst = _login(demo, "Shanghai R&D public testing")
    program = demo.programs["shanghai"]
    service = sdk.catalogue.list_service(
        inst.account,
        ServiceCreate(category=int(Category.TESTING), price=PRICE, name="bench testing"),
    ).id

    def place(ref: str) -> int:
        order = OrderCreate(
            service_id=service,
            program_id=program,
            units=PRICE // 2,
            own_funds=PRICE // 2,
            request_id=ref,
        )
        return sdk.orders.place(ent.account, order).id

    def prepare(count: int, *, deliver: bool) -> list[int]:
        ids: list[int] = []
        stop = time.monotonic() + args.max_seconds
        while len(ids) < count and time.monotonic() < stop:
            oid = place(f"bench-{uuid.uuid4().hex}")
            if deliver:
                sdk.orders.accept(inst.account, oid)
                sdk.orders.deliver(inst.account, oid, bytes(Web3.keccak(text=f"d{oid}")))
            ids.append(oid)
        return ids

    t0 = time.monotonic()
    to_accept = prepare(2 * args.calls, deliver=False)
    print(f"prepare:  {len(to_accept)} placed orders in {time.monotonic() - t0:.1f} s")

    ent_http = httpx2.Client(base_url=url, headers={"X-API-Key": ent.api_key}, timeout=60)
    inst_http = httpx2.Client(base_url=url, headers={"X-API-Key": inst.api_key}, timeout=60)

    def api_read(_: int) -> None:
        response = ent_http.get("/vouchers")
        assert response.status_code == 200, response.text

    def sdk_read(_: int) -> None:
        sdk.programs.balances(ent.account)

    half = len(to_accept) // 2

    def api_accept(i: int) -> None:
        response = inst_http.post(f"/orders/{to_accept[i]}/accept")
        assert response.status_code == 200, response.text

    def sdk_accept(i: int) -> None:
        sdk.orders.accept(inst.account, to_accept[half + i])

    def api_health(_: int) -> None:
        assert ent_http.get("/health").status_code == 200

    def api_me(_: int) -> None:
        assert ent_http.get("/organisations/me").status_code == 200

    def auth_lookup(_: int) -> None:
        org_on_chain(sdk.protocol, ent.account)

    for warm in range(3):
        api_read(warm)
        sdk_read(warm)
    print("\n## 1. API overhead per call (sequential, one client)")
    series = {
        "read  GET /vouchers (API)": timed(args.calls, args.max_seconds, api_read),
        "read  programs.balances (SDK)": timed(args.calls, args.max_seconds, sdk_read),
        "write POST /orders/{id}/accept (API)": timed(half, args.max_seconds, api_accept),
        "write orders.accept (SDK)": timed(half, args.max_seconds, sdk_accept),
        "part: auth's org_on_chain (2 eth_call)": timed(args.calls, args.max_seconds, auth_lookup),
        "part: GET /health (API, no auth)": timed(args.calls, args.max_seconds, api_health),
        "part: GET /organisations/me (API)": timed(args.calls, args.max_seconds, api_me),
    }
    for name, samples in series.items():
        print(line(name, samples))
    names = list(series)
    for kind, api, direct in (("read", names[0], names[1]), ("write", names[2], names[3])):
        a, s = series[api], series[direct]
        print(
            f"  overhead of the API, {kind:<5}: p50 {pct(a, 0.5) - pct(s, 0.5):+7.2f} ms"
            f"   p99 {pct(a, 0.99) - pct(s, 0.99):+7.2f} ms"
        )

    for clients in args.clients:
        confirmations(args, clients, prepare, ent, url)
    ent_http.close()
    inst_http.close()


def confirmations(
    args: argparse.Namespace,
    clients: int,
    prepare: Callable[..., list[int]],
    ent: DemoLogin,
    url: str,
) -> None:
    t0 = time.monotonic()
    delivered = prepare(args.orders, deliver=True)
    print(
        f"\nprepare:  {len(delivered)} delivered orders (placed, accepted, delivered via the SDK) "
        f"in {time.monotonic() - t0:.1f} s"
    )
    print(f"## 2. Confirmations through the API ({clients} concurrent clients)")
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    queue = list(reversed(delivered))
    stop = time.monotonic() + args.max_seconds

    def worker() -> None:
        with httpx2.Client(base_url=url, headers={"X-API-Key": ent.api_key}, timeout=60) as http:
            while time.monotonic() < stop:
                with lock:
                    if not queue:
                        return
                    oid = queue.pop()
                start = time.perf_counter()
                response = http.post(
                    f"/orders/{oid}/confirm", headers={"Idempotency-Key": f"confirm-{oid}"}
                )
                elapsed = time.perf_counter() - start
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        failures.append(f"{oid}: {response.status_code} {response.text[:120]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(worker) for _ in range(clients)]:
            future.result()
    wall = time.perf_counter() - started
    print(
        f"  confirmed {len(latencies)} of {len(delivered)} in {wall:.2f} s: "
        f"{len(latencies) / wall:.1f} confirmations/s, failures {len(failures)}"
    )
    if latencies:
        print(line("latency POST /orders/{id}/confirm", latencies))
    for failure in failures[:5]:
        print(f"  failure {failure}")


if __name__ == "__main__":
    sys.exit(main())
