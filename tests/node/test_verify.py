"""`verify` accepts an intact chain and reports the first tampered block of a copy."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
import rlp
from eth_account import Account
from eth_typing import BlockNumber

from voucher_chain.node import Node, NodeConfig, verify_chain
from voucher_chain.node.chain import chain_class
from voucher_chain.node.store import Store


@pytest.fixture(scope="module")
def sealed_chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dev chain of 4 blocks with 2 transfers each; its data dir."""
    data_dir = tmp_path_factory.mktemp("verify")
    with Node(NodeConfig(data_dir=data_dir, dev=True, auto_seal=False)) as node:
        account = Account.from_key(node.authority_key)
        for n in range(8):
            tx = {
                "type": 2,
                "chainId": node.chain_id,
                "nonce": n,
                "gas": 21_000,
                "maxFeePerGas": 0,
                "maxPriorityFeePerGas": 0,
                "to": account.address,
                "value": 0,
            }
            node.submit(bytes(account.sign_transaction(tx).raw_transaction))
            if n % 2:
                node.seal()
    return data_dir


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_intact_chain_verifies(sealed_chain: Path) -> None:
    report = verify_chain(sealed_chain)
    assert report.ok, report.problem
    assert (report.blocks, report.transactions) == (5, 8)
    assert not verify_chain(sealed_chain, authority=Account.create().address).ok
    replayed = verify_chain(sealed_chain, replay=True)
    assert replayed.ok, replayed.problem


def test_tampered_header_is_caught(sealed_chain: Path, tmp_path: Path) -> None:
    copy = _copy(sealed_chain, tmp_path / "copy")
    store = Store(copy / "chain.sqlite")
    chain = chain_class(int(store.get_meta("chain_id")))(store.db)
    header = chain.get_canonical_block_header_by_number(BlockNumber(3))
    forged = header.copy(timestamp=header.timestamp + 3600)
    store.db[header.hash] = rlp.encode(forged)
    store.commit()
    store.close()
    report = verify_chain(copy)
    assert not report.ok
    assert report.block == 3
    assert "does not hash" in (report.problem or "")


def test_tampered_seal_is_caught(sealed_chain: Path, tmp_path: Path) -> None:
    copy = _copy(sealed_chain, tmp_path / "copy")
    with sqlite3.connect(copy / "chain.sqlite") as conn:
        (signature,) = conn.execute("SELECT signature FROM seals WHERE number = 2").fetchone()
        forged = bytes(signature[:10]) + bytes([signature[10] ^ 1]) + bytes(signature[11:])
        conn.execute("UPDATE seals SET signature = ? WHERE number = 2", (forged,))
    report = verify_chain(copy)
    assert not report.ok
    assert report.block == 2


def test_swapped_transaction_is_caught(sealed_chain: Path, tmp_path: Path) -> None:
    copy = _copy(sealed_chain, tmp_path / "copy")
    with sqlite3.connect(copy / "chain.sqlite") as conn:
        conn.execute("DELETE FROM txs WHERE block = 4 AND idx = 1")
    report = verify_chain(copy)
    assert (report.ok, report.block) == (False, 4)
