"""voucherchain_waitForTransactionReceipt: the receipt when its block is committed, no polling."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.providers import HTTPProvider

from tests.node.conftest import self_transfer
from voucher_chain.node import Node, NodeConfig, RpcError, RpcServer
from voucher_chain.node.rpc import Dispatcher

WAIT = "voucherchain_waitForTransactionReceipt"


def test_answers_when_the_block_is_committed(tmp_path: Path) -> None:
    with Node(NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False)) as node:
        dispatcher = Dispatcher(node)
        tx_hash = "0x" + self_transfer(node, node.authority_key, 0).hex()
        answers: list[Any] = []
        waiter = threading.Thread(
            target=lambda: answers.append(dispatcher.call(WAIT, [tx_hash, 10_000]))
        )
        waiter.start()
        time.sleep(0.3)
        assert answers == []  # still pending: the call waits
        sealed_at = time.monotonic()
        assert node.seal() == 1
        waiter.join(5)
        assert time.monotonic() - sealed_at < 2  # woken by the block, not by the timeout
        assert answers == [dispatcher.call("eth_getTransactionReceipt", [tx_hash])]
        assert answers[0]["status"] == "0x1"
        # once mined, it answers at once
        assert dispatcher.call(WAIT, [tx_hash, 10_000]) == answers[0]


def test_unknown_at_once_pending_after_the_timeout(tmp_path: Path) -> None:
    with Node(NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False)) as node:
        dispatcher = Dispatcher(node)
        started = time.monotonic()
        assert dispatcher.call(WAIT, ["0x" + "11" * 32, 10_000]) is None
        assert time.monotonic() - started < 1
        tx_hash = "0x" + self_transfer(node, node.authority_key, 0).hex()
        started = time.monotonic()
        assert dispatcher.call(WAIT, [tx_hash, 200]) is None
        assert 0.15 < time.monotonic() - started < 2


@pytest.mark.parametrize("params", [["0x1234"], ["0x" + "11" * 32, -1], ["0x" + "11" * 32, "x"]])
def test_bad_parameters_are_invalid_params(tmp_path: Path, params: list[Any]) -> None:
    with Node(NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False)) as node:
        with pytest.raises(RpcError) as caught:
            Dispatcher(node).call(WAIT, params)
        assert caught.value.code == -32602


def test_over_http_with_the_producer(tmp_path: Path) -> None:
    with Node(NodeConfig(data_dir=tmp_path, dev=True, block_interval=0.05)) as node:
        server = RpcServer(node, port=0).start()
        try:
            w3 = Web3(HTTPProvider(server.url))
            tx_hash = "0x" + self_transfer(node, node.authority_key, 0).hex()
            answer = w3.provider.make_request(WAIT, [tx_hash, 5_000])  # type: ignore[arg-type]
            assert answer["result"]["transactionHash"] == tx_hash
            assert answer["result"]["blockNumber"] == "0x1"
        finally:
            server.stop()
