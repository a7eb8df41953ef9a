"""Read workers answer calls and estimates exactly as the node's own threads do."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from scripts.bench_evm import deploy_runtime
from voucher_chain.node import Node, NodeConfig, rpc, signing_web3
from voucher_chain.node.errors import RpcError

#: SSTORE(0, SLOAD(0) + 1), RETURN the new value: a call answers "the count, plus one"
COUNTER = bytes.fromhex("5f546001018060005560005260205ff3")
#: RETURN block.timestamp
CLOCK = bytes.fromhex("425f5260205ff3")
#: REVERT with the 4 bytes 0xdeadbeef
REVERTER = bytes.fromhex("63deadbeef5f526004601cfd")


def _answer(dispatcher: rpc.Dispatcher, method: str, params: list[Any]) -> Any:
    try:
        return ("result", dispatcher.call(method, params))
    except RpcError as exc:
        return ("error", exc.code, exc.message, exc.data)


def _in_process(node: Node, dispatcher: rpc.Dispatcher, method: str, params: list[Any]) -> Any:
    pool, node.read_pool = node.read_pool, None
    try:
        return _answer(dispatcher, method, params)
    finally:
        node.read_pool = pool


@pytest.fixture
def node(tmp_path: Path) -> Any:
    config = NodeConfig(
        data_dir=tmp_path,
        dev=True,
        auto_seal=False,
        automine=True,
        frozen_clock=True,
        read_workers=1,
    )
    with Node(config) as node:
        yield node


def test_workers_answer_as_the_node_itself(node: Node) -> None:
    assert node.read_pool is not None
    w3 = signing_web3(node)
    counter, clock, reverter = (deploy_runtime(w3, code) for code in (COUNTER, CLOCK, REVERTER))
    sender = Account.from_key(node.authority_key).address
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"to": counter, "from": sender}))
    head = node.head().block_number
    dispatcher = rpc.Dispatcher(node)
    requests: list[tuple[str, list[Any]]] = [
        ("eth_call", [{"to": counter}, "latest"]),
        ("eth_call", [{"to": counter}, hex(head - 1)]),  # before the count
        ("eth_call", [{"to": counter}, "earliest"]),  # no code yet
        ("eth_call", [{"to": counter}, hex(head + 5)]),  # no such block
        ("eth_call", [{"to": counter, "gas": hex(22_000)}, "latest"]),  # out of gas
        ("eth_call", [{"to": reverter}, "latest"]),
        ("eth_call", [{"to": clock}, "latest"]),
        ("eth_call", [{"to": counter, "data": "0xzz"}, "latest"]),  # invalid params
        ("eth_estimateGas", [{"to": counter, "from": sender}]),
        ("eth_estimateGas", [{"to": reverter}]),
        ("eth_estimateGas", [{"to": counter, "gas": hex(22_000)}]),
    ]
    answers = []
    for method, params in requests:
        pooled = _answer(dispatcher, method, params)
        assert pooled == _in_process(node, dispatcher, method, params), (method, params)
        answers.append(pooled)
    # and the answers are the real ones, not two equal failures
    assert int(answers[0][1], 16) == 2 and int(answers[1][1], 16) == 1
    assert answers[2] == ("result", "0x")
    assert answers[3][0] == "error" and "header not found" in answers[3][2]
    assert answers[4][0] == "error" and "OutOfGas" in answers[4][2]
    assert answers[5] == ("error", 3, "execution reverted", "0xdeadbeef")
    assert answers[8][0] == "result" and int(answers[8][1], 16) > 21_000
    assert answers[9] == ("error", 3, "execution reverted", "0xdeadbeef")


def test_workers_follow_the_head_and_the_dev_clock(node: Node) -> None:
    w3 = signing_web3(node)
    counter, clock = (
        Web3.to_checksum_address(deploy_runtime(w3, code)) for code in (COUNTER, CLOCK)
    )
    sender = Account.from_key(node.authority_key).address
    for count in range(1, 4):  # each receipt's effect is visible to the next read at once
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"to": counter, "from": sender})
        )
        assert int.from_bytes(w3.eth.call({"to": counter}), "big") == count + 1

    def pending_time() -> int:
        return int.from_bytes(w3.eth.call({"to": clock}), "big")

    assert pending_time() == node.head().timestamp + 1  # the frozen clock: one second on
    node.set_next_block_timestamp(node.head().timestamp + 50_000)
    assert pending_time() == node.head().timestamp + 50_000


def test_workers_follow_time_travel(tmp_path: Path) -> None:
    config = NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False, automine=True, read_workers=1)
    with Node(config) as node:
        w3 = signing_web3(node)
        clock = deploy_runtime(w3, CLOCK)
        node.travel(100_000)  # the wall clock plus an offset, from now on
        before = int(time.time()) + node.time_offset
        pending = int.from_bytes(w3.eth.call({"to": clock}), "big")
        assert before <= pending <= int(time.time()) + node.time_offset


def test_a_dead_worker_is_replaced_and_the_read_retried(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    w3 = signing_web3(node)
    counter = deploy_runtime(w3, COUNTER)
    pool = node.read_pool
    assert pool is not None
    dead = pool._all[0].process
    dead.kill()
    dead.wait()
    with caplog.at_level(logging.ERROR, logger="voucher_chain.node"):
        assert int.from_bytes(w3.eth.call({"to": counter}), "big") == 1
    assert "read worker failed" in caplog.text
    assert pool._all[0].process is not dead and pool._all[0].process.poll() is None


def test_closing_the_node_ends_its_workers(tmp_path: Path) -> None:
    with Node(NodeConfig(data_dir=tmp_path, dev=True, read_workers=2)) as node:
        assert node.read_pool is not None
        processes = [worker.process for worker in node.read_pool._all]
        assert len(processes) == 2 and all(p.poll() is None for p in processes)
    assert all(p.poll() is not None for p in processes)


def test_child_headers_are_built_once_per_parent_and_parameters(node: Node) -> None:
    from voucher_chain.node import chain as chain_module

    vm = chain_module.ZeroFeePragueVM
    parent = node.head()
    chain_module._CHILD_HEADERS.clear()
    first = vm.create_header_from_parent(parent, timestamp=parent.timestamp + 1)
    assert vm.create_header_from_parent(parent, timestamp=parent.timestamp + 1) is first
    later = vm.create_header_from_parent(parent, timestamp=parent.timestamp + 2)
    assert later.timestamp == first.timestamp + 1 and later.parent_hash == parent.hash
    chain_module._CHILD_HEADERS.clear()
    fresh = vm.create_header_from_parent(parent, timestamp=parent.timestamp + 1)
    assert fresh == first and fresh is not first  # the same fields as built from scratch
    assert first.base_fee_per_gas == 0 and first.block_number == parent.block_number + 1


def test_a_closed_pool_refuses_reads_and_starts_no_worker(tmp_path: Path) -> None:
    node = Node(NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False, read_workers=1))
    pool = node.read_pool
    assert pool is not None
    node.close()
    clock = node.clock()
    message = {"sender": b"\x00" * 20, "to": b"\x00" * 20, "data": b"", "value": 0, "gas": 50_000}
    with pytest.raises(RpcError, match="shutting down"):
        pool.answer("call", message, "latest", clock)
    assert all(worker.process.poll() is not None for worker in pool._all)
