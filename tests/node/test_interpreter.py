"""The node's opcode loop (voucher_chain/node/interpreter.py) against py-evm's own.

Random programs (fixed seeds) and hand-written edge programs are deployed on a dev node and
each is executed with ``Node.execute`` at several gas limits, once by the node's loop and once
inside :func:`interpreter.reference_loop` (py-evm's), on the same head; the two runs must agree
on success, error, gas, refund, output, logs, storage writes and, where the code ran to its
end, the final stack and memory. The protocol's workload then runs on a node of its own, its
estimates and calls are repeated with py-evm's loop, and its chain is re-executed by
``verify_chain(replay=True)``, which must use py-evm's loop.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from eth.abc import ComputationAPI
from web3 import Web3

from scripts.bench_evm import deploy_runtime
from scripts.bench_workload import HALF, Pair, Workload
from tests.node.evm_programs import (
    ALL_PROGRAMS,
    CALLS,
    EDGE_PROGRAMS,
    EDGES,
    GAS,
    INLINE,
    POPS,
    RANDOM_PROGRAMS,
    SEEDS,
    SLOAD,
    SSTORE,
    Program,
)
from tests.node.interpreter_lab import Lab, Outcome, assert_alike, deployed_lab, execute
from voucher_chain.contracts import Protocol
from voucher_chain.node import (
    Node,
    NodeConfig,
    NodeProvider,
    ensure_dev_protocol,
    interpreter,
    signing_web3,
    verify_chain,
)
from voucher_chain.node.chain import VoucherChainComputation
from voucher_chain.services import OrderCreate
from voucher_chain.signer import Keystore


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with deployed_lab(tmp_path_factory.mktemp("interpreter")) as found:
        yield found


@pytest.mark.parametrize("seed", SEEDS)
def test_random_programs_run_alike_in_both_loops(lab: Lab, seed: int) -> None:
    for program in RANDOM_PROGRAMS[seed]:
        assert_alike(lab, program)


@pytest.mark.parametrize("program", EDGE_PROGRAMS, ids=lambda p: p.name)
def test_edge_programs_run_alike_in_both_loops(lab: Lab, program: Program) -> None:
    assert_alike(lab, program)
    generous = lab.runs(program)[0]
    assert generous.reference.error == EDGES[program.name][1]


def test_the_programs_reach_every_outcome(lab: Lab) -> None:
    """The comparison is not vacuous: the runs succeed, revert and fail in every way the
    node's loop raises, at inline opcodes, and write storage, log and return data."""
    errors: Counter[str] = Counter()
    out_of_gas: Counter[str] = Counter()  # by what ran out: an opcode's name, or memory
    underflows: set[int] = set()
    did: Counter[str] = Counter()
    for program in ALL_PROGRAMS:
        for run in lab.runs(program):
            ref = run.reference
            errors[ref.error or "success"] += 1
            if ref.error == "OutOfGas":
                assert ref.message is not None
                reason = ref.message.split("Reason: ")[-1].split(":")[0]
                if reason.startswith("Expanding memory"):
                    reason = f"memory ({ref.failed_opcode:#04x})"
                elif "2300" in reason:
                    reason = "SSTORE below 2300"
                out_of_gas[reason] += 1
            if ref.error == "InsufficientStack" and ref.failed_opcode is not None:
                underflows.add(ref.failed_opcode)
            did["writes"] += bool(ref.storage_writes)
            did["logs"] += bool(ref.logs)
            did["output"] += bool(ref.output)
            did["refund"] += bool(ref.refund)
            did["stack"] += bool(ref.stack)
    print(f"\n{dict(errors)}\n{dict(out_of_gas)}\n{dict(did)}")  # the counts, with -s
    for kind in (
        "success",
        "Revert",
        "OutOfGas",
        "InsufficientStack",
        "FullStack",
        "InvalidJumpDestination",
        "InvalidInstruction",
    ):
        assert errors[kind] > 0, (kind, errors)
    # a third of the random programs do all their work: they succeed at the generous limit
    random = [p for programs in RANDOM_PROGRAMS.values() for p in programs]
    succeeded = sum(lab.runs(program)[0].reference.success for program in random)
    assert succeeded > len(random) / 3, (succeeded, len(random))
    # out of gas at inline opcodes (PUSH, DUP, arithmetic, ...) and in MSTORE's/MLOAD's expansion
    inline_names = {VoucherChainComputation.opcodes[op].mnemonic for op in INLINE}
    assert len(inline_names & set(out_of_gas)) >= 10, out_of_gas
    assert {"memory (0x51)", "memory (0x52)"} <= set(out_of_gas), out_of_gas
    assert set(POPS) <= underflows, sorted(set(POPS) - underflows)
    assert all(did[k] > 0 for k in ("writes", "logs", "output", "refund", "stack")), did


def test_execute_runs_each_message_on_a_throwaway_state(lab: Lab) -> None:
    """Both loops see the same pre-state: a counter's increment is never kept."""
    counter = next(p for p in EDGE_PROGRAMS if p.name == "counter")
    runs = [lab.execute(counter, 100_000, reference=ref) for ref in (False, True, False, True)]
    assert [int.from_bytes(r.output, "big") for r in runs] == [1, 1, 1, 1]
    assert all(r.storage_writes == ((lab.addresses["counter"], 0, 1),) for r in runs)


# -- which opcodes the node's loop runs itself ----------------------------------------------------


def test_inline_opcodes_cost_what_pyevm_charges() -> None:
    opcodes: dict[int, Any] = VoucherChainComputation.opcodes
    costs = interpreter.inline_costs(opcodes)
    assert len(costs) == 256
    for op in INLINE:
        assert costs[op] == opcodes[op].gas_cost >= 0, hex(op)
    # the estimate's watch wraps GAS and the calls; storage is py-evm's: all through the table
    for op in (GAS, *CALLS, SLOAD, SSTORE):
        assert costs[op] == -1, hex(op)
    assert {op for op, cost in enumerate(costs) if cost >= 0} == INLINE


# -- the protocol ---------------------------------------------------------------------------------


@dataclass
class ProtocolChain:
    data_dir: Path
    transactions: int
    #: label → (the node's loop, py-evm's loop)
    pairs: dict[str, tuple[Any, Any]]


def _rpc_result(call: Callable[[], Any]) -> Any:
    """A JSON-RPC call's result, or its error's type and data."""
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 — the revert is the result compared
        return (type(exc).__name__, getattr(exc, "data", None), str(exc))


def _both_loops(call: Callable[[], Any]) -> tuple[Any, Any]:
    ours = call()
    with interpreter.reference_loop():
        theirs = call()
    return ours, theirs


def _protocol_pairs(
    node: Node, w3: Web3, protocol: Protocol, work: Workload, pairs: list[Pair], placed: int
) -> dict[str, tuple[Any, Any]]:
    """Estimates, calls and messages of the protocol, each run by both loops."""
    block = w3.eth.block_number
    orders, program = protocol.orders, work.program_id
    enterprise, institution = pairs[1].enterprise, pairs[0].institution
    request = Web3.keccak(text="interpreter-test-order")
    place = orders.encode_abi(
        "placeOrder", args=[pairs[1].service_id, 1, program, HALF, HALF, request]
    )
    messages: dict[str, tuple[str, str, str]] = {  # label → (from, to, data)
        "placeOrder": (enterprise, orders.address, place),
        "accept": (institution, orders.address, orders.encode_abi("accept", args=[placed])),
        "confirm a settled order": (
            pairs[0].enterprise,
            orders.address,
            orders.encode_abi("confirm", args=[1]),
        ),
        "order view": (enterprise, orders.address, orders.encode_abi("order", args=[placed])),
        "voucher balance": (
            enterprise,
            protocol.vouchers.address,
            protocol.vouchers.encode_abi("balanceOf", args=[enterprise, program]),
        ),
    }

    def call(tx: Any) -> Any:
        return _rpc_result(lambda: bytes(w3.eth.call(tx, block)))

    def estimate(tx: Any) -> Any:
        return _rpc_result(lambda: w3.eth.estimate_gas(tx, block))

    found: dict[str, tuple[Any, Any]] = {}
    for label, (sender, to, data) in messages.items():
        tx = {"from": sender, "to": to, "data": data}
        found[f"eth_call {label}"] = _both_loops(partial(call, tx))
        if label in ("placeOrder", "accept"):
            found[f"eth_estimateGas {label}"] = _both_loops(partial(estimate, tx))
        message = {
            "sender": bytes.fromhex(sender[2:]),
            "to": bytes.fromhex(to[2:]),
            "data": bytes.fromhex(data[2:]),
        }
        found[f"execute {label}"] = (
            execute(node, block, reference=False, **message),
            execute(node, block, reference=True, **message),
        )
    return found


@pytest.fixture(scope="module")
def protocol_chain(tmp_path_factory: pytest.TempPathFactory) -> ProtocolChain:
    """scripts/bench's workload (2 pairs, 3 orders each, funds for a 4th) on a node of its own,
    then one more order placed, and the protocol's estimates and calls repeated with both
    loops; the node closed, for ``verify``."""
    data_dir = tmp_path_factory.mktemp("protocol")
    with Node(NodeConfig(data_dir=data_dir, dev=True, block_interval=0.005)) as node:
        addresses = ensure_dev_protocol(node)
        w3 = Web3(NodeProvider(node))
        protocol = Protocol.at(w3, addresses)
        keystore = Keystore.create(data_dir / "keys.json", master_key=secrets.token_bytes(32))
        governor = keystore.import_key(
            "0x" + bytes(node.authority_key).hex(), org_id=1, label="governor"
        )
        work = Workload(w3, protocol, keystore, governor, gas_fee=False)
        pairs = work.setup(2, 4)
        result = work.run("interpreter", pairs, 3)
        assert result.orders == 6 and not result.failures, result.failures
        placed = work.client.orders.place(
            pairs[0].enterprise,
            OrderCreate(
                service_id=pairs[0].service_id,
                program_id=work.program_id,
                units=HALF,
                own_funds=HALF,
                request_id="interpreter-test-placed",
            ),
        )
        found = _protocol_pairs(node, w3, protocol, work, pairs, placed.id)
        block = w3.eth.get_block("latest")
        transactions = sum(
            len(w3.eth.get_block(n)["transactions"]) for n in range(1, block["number"] + 1)
        )
    return ProtocolChain(data_dir, transactions, found)


def test_protocol_operations_agree_in_both_loops(protocol_chain: ProtocolChain) -> None:
    pairs = protocol_chain.pairs
    for label, (ours, theirs) in pairs.items():
        assert ours == theirs, label
    # and they did real work: estimates, a return value, a revert, state written and logged
    assert pairs["eth_estimateGas placeOrder"][0] > 100_000
    assert pairs["eth_estimateGas accept"][0] > 30_000
    assert int.from_bytes(pairs["eth_call placeOrder"][0], "big") > 0
    assert int.from_bytes(pairs["eth_call voucher balance"][0], "big") == HALF
    reverted_call = pairs["eth_call confirm a settled order"][0]
    assert reverted_call[0] == "ContractCustomError" and reverted_call[1], reverted_call
    placing: Outcome = pairs["execute placeOrder"][0]
    assert placing.success and placing.logs and placing.storage_writes and placing.memory
    reverted: Outcome = pairs["execute confirm a settled order"][0]
    assert reverted.error == "Revert" and reverted.output and reverted.stack is not None


def test_protocol_chain_replays_with_pyevm_loop(protocol_chain: ProtocolChain) -> None:
    report = verify_chain(protocol_chain.data_dir, replay=True)
    assert report.ok, report.problem
    assert report.transactions == protocol_chain.transactions > 6 * 4


def test_replay_uses_pyevm_loop_and_the_node_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The node's blocks and calls run :func:`interpreter.run`; ``verify --replay`` never does."""
    calls: list[ComputationAPI] = []
    original = interpreter.run

    def counting(computation: ComputationAPI) -> None:
        calls.append(computation)
        original(computation)

    def refusing(computation: ComputationAPI) -> None:
        raise AssertionError("the node's opcode loop ran")

    monkeypatch.setattr(interpreter, "run", counting)
    counter = EDGES["counter"][0]
    config = NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False, automine=True)
    with Node(config) as node:
        w3 = signing_web3(node)
        target = deploy_runtime(w3, counter)  # the init code runs in a block
        assert calls  # the deployment's estimate and block
        calls.clear()
        sent = w3.eth.send_transaction({"to": target, "gas": 100_000})  # no estimate: a block
        assert w3.eth.wait_for_transaction_receipt(sent)["status"] == 1
        assert len(calls) == 1
        message: dict[str, Any] = {
            "sender": bytes(node.authority),
            "to": bytes.fromhex(target[2:]),
            "data": b"",
        }
        with node.reading() as chain:
            assert node.execute(chain, node.head(), **message).output[-1] == 2
            assert len(calls) == 2
            with interpreter.reference_loop():
                assert node.execute(chain, node.head(), **message).output[-1] == 2
            assert len(calls) == 2
            monkeypatch.setattr(interpreter, "run", refusing)
            with pytest.raises(AssertionError, match="opcode loop ran"):
                node.execute(chain, node.head(), **message)
    report = verify_chain(tmp_path, replay=True)  # with the node's loop refusing to run
    assert report.ok, report.problem
    assert report.transactions == 2
