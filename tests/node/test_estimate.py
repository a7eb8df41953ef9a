"""``eth_estimateGas`` in one run (voucher_chain/node/estimate.py) against the exact minimum.

The workload of scripts/bench (setup: registrations, accreditation, a program, issuance,
deposits; then place → accept → deliver → confirm) runs through the SDK on a dev node over
HTTP, and every estimate is compared with the least gas limit at which the same message
succeeds at the same block, found by bisection.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from scripts.bench_evm import deploy_runtime
from scripts.bench_workload import Workload
from voucher_chain.contracts import Protocol
from voucher_chain.node import (
    Node,
    NodeConfig,
    RpcServer,
    ensure_dev_protocol,
    execution,
    rpc,
    signing_web3,
)
from voucher_chain.node.estimate import GasWatch, data_floor, one_run_limit, watching
from voucher_chain.signer import Keystore

#: selectors of the order operations, the workload's timed part
ORDER_OPERATIONS = ("placeOrder", "accept", "deliver", "confirm")


def _least_gas(dispatcher: rpc.Dispatcher, message: dict[str, Any], block_id: Any) -> int:
    node = dispatcher.node
    with node.reading() as chain:
        header = node.header_at(chain, block_id)

        def succeeds(gas: int) -> bool:
            return node.execute(chain, header, **{**message, "gas": gas}).success

        low: int = data_floor(message["data"]) - 1  # fails
        high: int = message["gas"]  # succeeds
        assert succeeds(high)
        while high - low > 1:
            middle = (low + high) // 2
            if succeeds(middle):
                high = middle
            else:
                low = middle
        return high


def test_one_run_estimates_are_enough_and_tight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []
    original = rpc.Dispatcher._estimate
    bounds = threading.local()  # estimates run concurrently, one per server thread

    def bound_of(*args: Any) -> int | None:
        bounds.last = one_run_limit(*args)
        return bounds.last  # type: ignore[no-any-return]

    def recording(self: rpc.Dispatcher, params: list[Any]) -> Any:
        bounds.last = None
        message, block_id = self._message(params)
        with self.node.reading() as chain:  # pinned: other senders' blocks keep coming
            number = self.node.header_at(chain, block_id).block_number
        estimate = int(original(self, [params[0], hex(number)]), 16)
        least = _least_gas(self, message, number)
        seen.append(
            {
                "selector": message["data"][:4],
                "estimate": estimate,
                "least": least,
                "one_run": bounds.last == estimate,
            }
        )
        return hex(estimate)

    monkeypatch.setattr(execution, "one_run_limit", bound_of)
    monkeypatch.setattr(rpc.Dispatcher, "_estimate", recording)

    config = NodeConfig(data_dir=tmp_path / "node", dev=True, block_interval=0.005)
    with Node(config) as node:
        addresses = ensure_dev_protocol(node)
        server = RpcServer(node, port=0).start()
        try:
            w3 = Web3(Web3.HTTPProvider(server.url, request_kwargs={"timeout": 60}))
            keystore = Keystore.create(tmp_path / "keys.json", master_key=secrets.token_bytes(32))
            governor = keystore.import_key(
                "0x" + bytes(node.authority_key).hex(), org_id=1, label="governor"
            )
            work = Workload(w3, Protocol.at(w3, addresses), keystore, governor, gas_fee=False)
            pairs = work.setup(2, 2)
            result = work.run("node", pairs, 2)
        finally:
            server.stop()
    assert not result.failures and len(result.confirm_latencies) == 4

    names = {
        Web3.keccak(text=signature)[:4]: signature.split("(")[0]
        for signature in _signatures(Protocol.at(w3, addresses))
    }
    by_operation: dict[str, list[dict[str, Any]]] = {}
    for estimate in seen:
        by_operation.setdefault(names.get(estimate["selector"], "?"), []).append(estimate)
        # enough: never below the least limit that succeeds
        assert estimate["estimate"] >= estimate["least"], estimate
    for operation in ORDER_OPERATIONS:
        runs = by_operation[operation]
        assert all(run["one_run"] for run in runs), (operation, runs)
        for run in runs:  # tight: the bound's margin is a few per cent
            assert run["estimate"] <= run["least"] * 1.06 + 10_000, (operation, run)
    one_run = sum(run["one_run"] for run in seen)
    assert one_run >= len(seen) * 0.8, (one_run, len(seen), by_operation.keys())


def _signatures(protocol: Protocol) -> list[str]:
    signatures = []
    for contract in (getattr(protocol, f.name) for f in fields(protocol) if f.name != "w3"):
        for item in contract.abi:
            if item.get("type") == "function":
                types = ",".join(_type(i) for i in item["inputs"])
                signatures.append(f"{item['name']}({types})")
    return signatures


def _type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


def test_a_run_that_reads_its_gas_gets_no_bound() -> None:
    watch = GasWatch(reads=2, forwarded=1)
    assert not watch.gas_oblivious
    assert GasWatch(reads=3, forwarded=3).gas_oblivious
    assert not GasWatch(reads=1, forwarded=1, explicit_calls=1).gas_oblivious
    with watching(GasWatch()) as active:
        assert active.reads == 0


# runtime code: PUSH1 0 ×4 (return and argument areas), PUSH1 0 (value), PUSH1 4 (the identity
# precompile), the gas argument, CALL, POP, STOP
_FORWARDS_ALL = bytes.fromhex("6000600060006000600060045a" + "f15000")  # gas: GAS
_EXPLICIT_GAS = bytes.fromhex("600060006000600060006004612710" + "f15000")  # gas: PUSH2 10000
_READS_GAS = bytes.fromhex("5a60005500")  # GAS PUSH1 0 SSTORE STOP
_CASES = {"forwards all": (_FORWARDS_ALL, True), "explicit gas": (_EXPLICIT_GAS, False)}
_CASES["reads its gas"] = (_READS_GAS, False)


@pytest.mark.parametrize("case", list(_CASES))
def test_only_gas_forwarded_whole_to_a_call_gets_the_bound(tmp_path: Path, case: str) -> None:
    runtime, oblivious = _CASES[case]
    config = NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False, automine=True)
    with Node(config) as node:
        w3 = signing_web3(node)
        target = deploy_runtime(w3, runtime)
        sender = Account.from_key(node.authority_key).address
        message: dict[str, Any] = {
            "sender": bytes.fromhex(sender[2:]),
            "to": bytes.fromhex(target[2:]),
            "data": b"",
        }
        with node.reading() as chain:
            with watching(GasWatch()) as watch:
                run = node.execute(chain, node.head(), **message)
            assert run.success and run.computation is not None
            assert watch.gas_oblivious is oblivious, watch
            bound = one_run_limit(run.computation, run.gas_used, watch, b"")
        assert (bound is not None) is oblivious
        estimate = rpc.Dispatcher(node).call("eth_estimateGas", [{"from": sender, "to": target}])
        answer = int(estimate, 16)
        with node.reading() as chain:  # the search's answer, or the bound, is enough
            assert node.execute(chain, node.head(), **{**message, "gas": answer}).success
        assert bound is None or answer == bound
