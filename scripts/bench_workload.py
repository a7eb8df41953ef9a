"""The workload of ``scripts/bench``: N enterprises, each with its own institution, placing,
having delivered and confirming orders concurrently through the SDK (``voucher_chain.services``
over a ``Submitter`` that signs with a local keystore) — on any JSON-RPC chain where the
protocol is deployed and the governor's key is known.

Setup (not timed): a bank, a Shanghai issuer and finance bureau, one quota program (1 unit =
1 fen, the voucher pays half) funded for every order, then per pair: the enterprise and the
institution registered, the institution accredited and listing one service, vouchers issued and
own funds deposited to the enterprise. Timed: each pair's thread runs ``orders`` times
place → accept → deliver → confirm, one step after the other (4 transactions per order); the N
threads run at once. The confirm is the payment: the institution is paid in that transaction.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from eth_typing import HexStr
from hexbytes import HexBytes
from web3 import Web3

from voucher_chain.contracts import Category, OrgKind, Protocol
from voucher_chain.services import (
    OrderCreate,
    OrganisationCreate,
    ProgramCreate,
    ServiceCreate,
    VoucherClient,
)
from voucher_chain.signer import Keystore, LocalSigner, Submitter

PRICE = 1_000_000  # fen (¥10,000) per order, half in vouchers, half own funds
HALF = PRICE // 2
SHANGHAI = 310000
DAY = 86400
OPERATIONS = ("place", "accept", "deliver", "confirm")
ROLES = ("bank", "issuer", "finance")


@dataclass
class Pair:
    enterprise: str
    institution: str
    enterprise_org: int = 0
    service_id: int = 0


@dataclass
class Result:
    """What one chain did under the workload."""

    chain: str
    orders: int
    seconds: float
    confirm_latencies: list[float]
    gas: dict[str, list[int]]
    failures: list[str] = field(default_factory=list)
    setup_seconds: float = 0.0
    blocks: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    request_ms: dict[str, float] = field(default_factory=dict)  # mean latency per method
    node_cpu: float = 0.0  # seconds of the node process's CPU in the timed part
    client_cpu: float = 0.0  # seconds of the client process's CPU in the timed part

    @property
    def orders_per_second(self) -> float:
        return self.orders / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Confirm→payment latency at quantile ``q``, in ms (nearest rank)."""
        ordered = sorted(self.confirm_latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def gas_per_operation(self) -> dict[str, float]:
        return {op: statistics.mean(used) for op, used in self.gas.items() if used}


class Progress:
    """A one-line progress bar on stderr (a counter line every few seconds when not a tty)."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self._lock = threading.Lock()
        self._start = time.perf_counter()
        self._tty = sys.stderr.isatty()
        self._last = 0.0

    def advance(self) -> None:
        with self._lock:
            self.done += 1
            now = time.perf_counter()
            if self.done == self.total or now - self._last >= (0.2 if self._tty else 5.0):
                self._last = now
                self._draw(now - self._start)

    def _draw(self, elapsed: float) -> None:
        width = 30
        filled = width * self.done // max(self.total, 1)
        rate = self.done / elapsed if elapsed else 0.0
        text = (
            f"{self.label:<9} [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.done}/{self.total} settled  {rate:6.1f}/s  {elapsed:6.1f} s"
        )
        end = "\n" if self.done == self.total or not self._tty else ""
        print(("\r" if self._tty else "") + text, end=end, file=sys.stderr, flush=True)


class Workload:
    """Sets up and runs the workload on one chain."""

    def __init__(
        self, w3: Web3, protocol: Protocol, keystore: Keystore, governor: str, *, gas_fee: bool
    ) -> None:
        self.w3 = w3
        self.keystore = keystore
        self.governor = Web3.to_checksum_address(governor)
        self.gas_fee = gas_fee  # the chain charges for gas: fund new accounts with ether
        self.client = VoucherClient(protocol, Submitter(w3, LocalSigner(keystore)).transact)
        self._codes = iter(range(1, 10**9))

    # -- setup ------------------------------------------------------------------------------------

    def _fund(self, accounts: list[str]) -> None:
        """Ether for gas from the governor, where the chain charges for gas (Anvil)."""
        secret = self.keystore.secret(self.governor).reveal()
        nonce = self.w3.eth.get_transaction_count(self.governor, "pending")
        chain_id = self.w3.eth.chain_id
        last: HexBytes | None = None
        for i, account in enumerate(accounts):
            tx = {
                "to": account,
                "value": Web3.to_wei(1, "ether"),
                "nonce": nonce + i,
                "gas": 21_000,
                "maxFeePerGas": Web3.to_wei(10, "gwei"),
                "maxPriorityFeePerGas": Web3.to_wei(1, "gwei"),
                "chainId": chain_id,
            }
            signed = self.w3.eth.account.sign_transaction(tx, secret)
            last = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        if last is not None:
            self.w3.eth.wait_for_transaction_receipt(last)

    def _register(self, kind: OrgKind, account: str, employees: int = 20) -> int:
        code = f"91310000BENCH{next(self._codes):05d}"
        return self.client.registry.register(
            self.governor,
            OrganisationCreate(
                kind=kind, region=SHANGHAI, credit_code=code, employees=employees, account=account
            ),
        ).id

    def setup(self, pairs: int, orders: int) -> list[Pair]:
        """Organisations, the program and the pairs' services, vouchers and own funds."""
        c = self.client
        self.bank, self.issuer, finance = (self.keystore.generate(None, r) for r in ROLES)
        made = [
            Pair(
                self.keystore.generate(None, f"ent-{i}"), self.keystore.generate(None, f"inst-{i}")
            )
            for i in range(pairs)
        ]
        if self.gas_fee:
            everyone = [self.bank, self.issuer, finance]
            self._fund(everyone + [a for p in made for a in (p.enterprise, p.institution)])
        self._register(OrgKind.BANK, self.bank)
        self._register(OrgKind.ISSUER, self.issuer)
        finance_org = self._register(OrgKind.FINANCE, finance)
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        program = c.programs.create(
            self.issuer,
            ProgramCreate(
                fiscal_year=2026,
                finance_org=finance_org,
                spend_regions=[SHANGHAI],
                issue_start=now,
                issue_end=now + 180 * DAY,
                expiry=now + 300 * DAY,
                settlement_deadline=now + 330 * DAY,
            ),
        )
        self.program_id = program.id
        budget = pairs * orders * HALF
        c.money.deposit(self.bank, finance, budget, "bench-budget")
        c.programs.fund(finance, program.id, budget)
        _parallel([partial(self._pair, p, i, orders) for i, p in enumerate(made)])
        return made

    def _pair(self, pair: Pair, index: int, orders: int) -> None:
        c = self.client
        pair.enterprise_org = self._register(OrgKind.ENTERPRISE, pair.enterprise)
        inst_org = self._register(OrgKind.INSTITUTION, pair.institution, 100)
        c.catalogue.accredit(self.governor, inst_org, Category.mask())
        service = ServiceCreate(category=int(Category.TESTING), price=PRICE, name=f"EMC {index}")
        pair.service_id = c.catalogue.list_service(pair.institution, service).id
        c.programs.issue(
            self.issuer, self.program_id, pair.enterprise_org, orders * HALF, f"bench-{index}"
        )
        c.money.deposit(self.bank, pair.enterprise, orders * HALF, f"bench-own-{index}")

    # -- the timed part ---------------------------------------------------------------------------

    def run(self, chain: str, pairs: list[Pair], orders: int) -> Result:
        latencies: list[float] = []
        hashes: dict[str, list[str]] = {op: [] for op in OPERATIONS}
        failures: list[str] = []
        lock = threading.Lock()
        progress = Progress(chain, len(pairs) * orders)

        def one_pair(index: int, pair: Pair) -> None:
            c = self.client
            for k in range(orders):
                step = "place"
                try:
                    placed = c.orders.place(
                        pair.enterprise,
                        OrderCreate(
                            service_id=pair.service_id,
                            program_id=self.program_id,
                            units=HALF,
                            own_funds=HALF,
                            request_id=f"bench-{chain}-{index}-{k}",
                        ),
                    )
                    step = "accept"
                    accepted = c.orders.accept(pair.institution, placed.id)
                    step = "deliver"
                    digest = Web3.keccak(text=f"report {placed.id}")
                    delivered = c.orders.deliver(pair.institution, placed.id, digest)
                    step = "confirm"
                    t0 = time.perf_counter()
                    settled = c.orders.confirm(pair.enterprise, placed.id)
                    latency = time.perf_counter() - t0
                except Exception as exc:  # noqa: BLE001 — reported, then the run goes on
                    with lock:
                        failures.append(
                            f"pair {index} order {k} {step}: {type(exc).__name__}: {exc}"
                        )
                    continue
                with lock:
                    latencies.append(latency)
                    for op, ref in zip(
                        OPERATIONS, (placed.tx, accepted.tx, delivered.tx, settled.tx), strict=True
                    ):
                        if ref is not None and not ref.replayed and ref.tx_hash:
                            hashes[op].append(ref.tx_hash)
                progress.advance()

        start_block = self.w3.eth.block_number
        t0 = time.perf_counter()
        _parallel([partial(one_pair, i, p) for i, p in enumerate(pairs)])
        seconds = time.perf_counter() - t0
        gas = {
            op: [int(self.w3.eth.get_transaction_receipt(HexStr(h))["gasUsed"]) for h in found[:50]]
            for op, found in hashes.items()
        }
        return Result(
            chain=chain,
            orders=len(latencies),
            seconds=seconds,
            confirm_latencies=latencies,
            gas=gas,
            failures=failures,
            blocks=self.w3.eth.block_number - start_block,
        )


def _parallel(tasks: Iterable[Callable[[], None]]) -> None:
    """Runs every task on its own thread; re-raises the first failure."""
    todo = list(tasks)
    with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        for future in [pool.submit(task) for task in todo]:
            future.result()


def machine() -> str:
    return (
        f"{os.uname().machine}, {os.cpu_count()} CPUs, {os.uname().sysname} "
        f"{os.uname().release}, Python {sys.version.split()[0]}"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of process ``pid`` and every process below it (the
    node's read workers count as the node's), from Linux ``/proc``."""
    total = 0.0
    for tree_pid in _tree(pid):
        try:
            fields = Path(f"/proc/{tree_pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # ended meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _tree(pid: int) -> list[int]:
    found = [pid]
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in tasks.read_text().split():
            found += _tree(int(child))
    return found
