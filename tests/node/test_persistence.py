"""Persistence across restarts, the encrypted dev key, and configuration mistakes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from hexbytes import HexBytes

from tests.node.conftest import self_transfer
from voucher_chain.node import Node, NodeConfig, NodeConfigError, RpcError, verify_chain
from voucher_chain.node.keys import DEV_PASSPHRASE, PASSPHRASE_ENV, decrypt_key, passphrase_from_env
from voucher_chain.node.provider import NodeProvider
from voucher_chain.node.rpc import Dispatcher


def test_restart_resumes_at_head_with_every_receipt(tmp_path: Path) -> None:
    config = NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False)
    with Node(config) as node:
        key = node.authority_key
        hashes = [self_transfer(node, key, n) for n in range(5)]
        assert node.seal() == 1
        hashes += [self_transfer(node, key, n) for n in range(5, 8)]
        assert node.seal() == 2
        head = node.head()
        receipts = [
            Dispatcher(node).call("eth_getTransactionReceipt", ["0x" + h.hex()]) for h in hashes
        ]
    with Node(config) as node:
        assert node.head() == head
        dispatcher = Dispatcher(node)
        again = [dispatcher.call("eth_getTransactionReceipt", ["0x" + h.hex()]) for h in hashes]
        assert again == receipts
        assert all(r["status"] == "0x1" for r in again)
        self_transfer(node, key, 8)
        assert node.seal() == 3
        assert (
            Dispatcher(node).call(
                "eth_getTransactionCount", [Account.from_key(key).address, "latest"]
            )
            == "0x9"
        )


def test_pending_transactions_are_nonce_ordered_in_one_block(tmp_path: Path) -> None:
    with Node(NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False)) as node:
        address = Account.from_key(node.authority_key).address
        dispatcher = Dispatcher(node)
        for n in range(4):
            self_transfer(node, node.authority_key, n)
            assert dispatcher.call("eth_getTransactionCount", [address, "pending"]) == hex(n + 1)
        assert dispatcher.call("eth_getTransactionCount", [address, "latest"]) == "0x0"
        node.seal()
        block = dispatcher.call("eth_getBlockByNumber", ["latest", True])
        assert [int(t["nonce"], 16) for t in block["transactions"]] == [0, 1, 2, 3]


def test_dev_key_is_encrypted_at_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    with Node(NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False)) as node:
        key = node.authority_key
    document = (tmp_path / "authority.key").read_text()
    assert key.hex() not in document
    assert json.loads(document)["kdf"]["name"] == "scrypt"
    assert decrypt_key(document, "correct horse") == key
    with pytest.raises(NodeConfigError, match="wrong passphrase"):
        decrypt_key(document, "wrong")
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(NodeConfigError, match="wrong passphrase"):
        Node(NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False))


def test_dev_default_passphrase_refused_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    assert passphrase_from_env(dev=True) == DEV_PASSPHRASE
    with pytest.raises(NodeConfigError, match="refused outside dev mode"):
        passphrase_from_env(dev=False)


def test_operator_key_and_chain_id_are_checked(tmp_path: Path) -> None:
    with pytest.raises(NodeConfigError, match="authority key is required"):
        Node(NodeConfig(data_dir=tmp_path))
    key = Account.create().key
    with Node(NodeConfig(data_dir=tmp_path, authority_key=bytes(key), auto_seal=False)):
        pass
    with pytest.raises(NodeConfigError, match="holds chain id"):
        Node(NodeConfig(data_dir=tmp_path, authority_key=bytes(key), chain_id=5, auto_seal=False))
    with pytest.raises(NodeConfigError, match="sealed by"):
        Node(
            NodeConfig(
                data_dir=tmp_path, authority_key=bytes(Account.create().key), auto_seal=False
            )
        )


def test_in_process_provider(tmp_path: Path) -> None:
    from web3 import Web3

    with Node(NodeConfig(data_dir=tmp_path, dev=True, block_interval=0.01)) as node:
        w3 = Web3(NodeProvider(node))
        tx_hash = self_transfer(node, node.authority_key, 0)
        receipt = w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=10)
        assert receipt["status"] == 1
        assert w3.eth.get_block(receipt["blockNumber"])["transactions"] == [tx_hash]


def test_dev_time_travel_moves_chain_time_forward_only(tmp_path: Path) -> None:
    with Node(NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False)) as node:
        dispatcher = Dispatcher(node)
        before = int(dispatcher.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        assert dispatcher.call("evm_increaseTime", [86_400]) == 86_400
        block = dispatcher.call("eth_getBlockByNumber", ["latest", False])
        assert int(block["timestamp"], 16) >= before + 86_400
        assert block["transactions"] == []
        self_transfer(node, node.authority_key, 0)
        node.seal()
        assert int(dispatcher.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16) >= (
            before + 86_400
        )
        with pytest.raises(RpcError):
            dispatcher.call("evm_increaseTime", [-1])
    assert verify_chain(tmp_path, replay=True).ok


def test_no_time_travel_outside_dev(tmp_path: Path) -> None:
    key = bytes(Account.create().key)
    with Node(NodeConfig(data_dir=tmp_path, authority_key=key, auto_seal=False)) as node:
        with pytest.raises(RpcError) as caught:
            Dispatcher(node).call("evm_increaseTime", [10])
        assert caught.value.code == -32601


def test_a_block_py_evm_refuses_is_rebuilt_without_the_culprit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eth_utils.exceptions import ValidationError

    from voucher_chain.node.chain import VoucherChainEVM

    with Node(NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False)) as node:
        key = node.authority_key
        good = [self_transfer(node, key, n) for n in range(3)]
        original = VoucherChainEVM.build_block
        calls: list[int] = []

        def refuse_first(self: VoucherChainEVM, txs: Any, **kwargs: Any) -> Any:
            calls.append(len(txs))
            if len(calls) == 1:
                raise ValidationError("simulated: a transaction became invalid")
            return original(self, txs, **kwargs)

        monkeypatch.setattr(VoucherChainEVM, "build_block", refuse_first)
        assert node.seal() == 1
        assert calls == [3, 3]  # the one-by-one check found all three applicable
        dispatcher = Dispatcher(node)
        assert all(dispatcher.call("eth_getTransactionReceipt", ["0x" + h.hex()]) for h in good)

        def always_refuse(self: VoucherChainEVM, txs: Any, **kwargs: Any) -> Any:
            raise RuntimeError("simulated: the block cannot be built")

        monkeypatch.setattr(VoucherChainEVM, "build_block", always_refuse)
        doomed = self_transfer(node, key, 3)
        assert node.seal() is None
        assert node.dropped[doomed].startswith("block building failed")
        assert node.pending_count() == 0
        monkeypatch.setattr(VoucherChainEVM, "build_block", original)
        self_transfer(node, key, 3)  # the nonce is free again
        assert node.seal() == 2
    assert verify_chain(tmp_path, replay=True).ok


def test_dev_snapshot_and_revert(tmp_path: Path) -> None:
    with Node(NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False)) as node:
        dispatcher = Dispatcher(node)
        key = node.authority_key
        address = Account.from_key(key).address
        self_transfer(node, key, 0)
        node.seal()
        snapshot = dispatcher.call("evm_snapshot", [])
        head = node.head()
        later = [self_transfer(node, key, n) for n in (1, 2)]
        node.seal()
        dispatcher.call("evm_increaseTime", [3600])
        assert node.head().block_number == head.block_number + 2
        assert dispatcher.call("evm_revert", [snapshot]) is True
        assert node.head() == head
        assert dispatcher.call("eth_getTransactionCount", [address, "pending"]) == "0x1"
        assert dispatcher.call("eth_getTransactionReceipt", ["0x" + later[0].hex()]) is None
        assert dispatcher.call("eth_getBlockByNumber", [hex(head.block_number + 1), False]) is None
        assert node.time_offset == 0
        assert dispatcher.call("evm_revert", [snapshot]) is False  # used up
        again = self_transfer(node, key, 1)
        assert node.seal() == head.block_number + 1
        assert dispatcher.call("eth_getTransactionReceipt", ["0x" + again.hex()])["status"] == "0x1"
    report = verify_chain(tmp_path, replay=True)
    assert report.ok, report.problem


def test_automine_seals_before_submit_returns(tmp_path: Path) -> None:
    config = NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False, automine=True)
    with Node(config) as node:
        tx_hash = self_transfer(node, node.authority_key, 0)
        receipt = Dispatcher(node).call("eth_getTransactionReceipt", ["0x" + tx_hash.hex()])
        assert receipt["blockNumber"] == "0x1"
        assert node.pending_count() == 0
