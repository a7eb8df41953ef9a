"""Fixtures for the node: a dev node with the protocol deployed, served over HTTP, and helpers
that sign raw transactions and register organisations."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from voucher_chain.contracts import OrgKind, Protocol, transact
from voucher_chain.node import Node, NodeConfig, RpcServer, ensure_dev_protocol, signing_web3

_codes = itertools.count(1)


@dataclass
class DevChain:
    """A dev node, its protocol, an HTTP server and a governor-signing web3."""

    node: Node
    protocol: Protocol
    server: RpcServer
    w3: Web3
    governor: LocalAccount

    def raw(self, account: LocalAccount, **fields: Any) -> bytes:
        """``account`` signs a type-2 transaction (defaults: next nonce, no fees, this chain)."""
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.node.chain_id,
            "nonce": self.node.pending_nonce(bytes.fromhex(account.address[2:])),
            "gas": 100_000,
            "maxFeePerGas": 0,
            "maxPriorityFeePerGas": 0,
            "to": account.address,
            "value": 0,
            "data": b"",
        }
        tx.update(fields)
        return bytes(account.sign_transaction(tx).raw_transaction)

    def register(self, kind: OrgKind = OrgKind.ISSUER) -> tuple[int, LocalAccount]:
        """A new organisation registered by the governor; its id and account."""
        account = Account.create()
        code = Web3.keccak(text=f"node-test-org-{next(_codes)}")
        receipt = transact(
            self.protocol.registry.functions.registerOrganisation(
                int(kind), 110000, code, 10, 6510, b"\x00" * 32, account.address
            ),
            self.governor.address,
        )
        events = self.protocol.registry.events.OrganisationRegistered().process_receipt(
            receipt, errors=DISCARD
        )
        return int(events[0]["args"]["orgId"]), account


def signed_self_transfer(account: LocalAccount, chain_id: int, nonce: int) -> bytes:
    """A 0-value, fee-free self-transfer of ``account``, signed: the raw transaction."""
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "gas": 21_000,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
        "to": account.address,
        "value": 0,
    }
    return bytes(account.sign_transaction(tx).raw_transaction)


def self_transfer(node: Node, key: bytes, nonce: int | None = None) -> bytes:
    """Submits a 0-value self-transfer signed with ``key`` (at its next pending nonce unless
    ``nonce`` is given); the transaction hash."""
    account = Account.from_key(key)
    if nonce is None:
        nonce = node.pending_nonce(bytes.fromhex(account.address[2:]))
    return node.submit(signed_self_transfer(account, node.chain_id, nonce))


def fail_next_block(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Makes the next block fail after its state was made (its indexing raises), so the
    producer rolls it back; the list receives that block's number."""
    original = Node._index
    failures: list[int] = []

    def fail_once(self: Node, block: Any, receipts: Any) -> None:
        if not failures:
            failures.append(block.number)
            raise RuntimeError("simulated: indexing failed")
        original(self, block, receipts)

    monkeypatch.setattr(Node, "_index", fail_once)
    return failures


def start_dev_chain(data_dir: Path) -> DevChain:
    node = Node(NodeConfig(data_dir=data_dir, dev=True, block_interval=0.01))
    addresses = ensure_dev_protocol(node)
    w3 = signing_web3(node)
    governor = Account.from_key(node.authority_key)
    server = RpcServer(node, port=0).start()
    return DevChain(
        node=node,
        protocol=Protocol.at(w3, addresses),
        server=server,
        w3=w3,
        governor=governor,
    )


@pytest.fixture(scope="session")
def dev_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevChain]:
    chain = start_dev_chain(tmp_path_factory.mktemp("dev-node"))
    try:
        yield chain
    finally:
        chain.server.stop()
        chain.node.close()
