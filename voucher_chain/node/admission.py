"""Admission: the checks a raw transaction passes before it may enter the mempool.

In order: size, RLP decoding, signature, type, chain id (py-evm itself does not check it),
gas, funds, contract creation (governor only), then membership of the ParticipantRegistry
(``isActiveAccount(sender)`` executed on the head state; every sender is allowed until a
registry is configured and has code). Nonces are checked by the node against the mempool.
Each refusal is a :class:`TransactionRejected` with a short ``reason`` tag and a sentence.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from eth.abc import SignedTransactionAPI
from eth_typing import Address
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from trie.hexary import HexaryTrie

from voucher_chain.node.errors import INVALID_INPUT, TransactionRejected

if TYPE_CHECKING:
    from voucher_chain.node.core import Node

__all__ = ["Admission"]

_IS_ACTIVE = keccak(text="isActiveAccount(address)")[:4]
_UNSUPPORTED_TYPES = {3: "blob (EIP-4844)", 4: "set-code (EIP-7702)"}


class Admission:
    """Checks transactions for one node; caches registry answers per head block."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._lock = threading.Lock()
        self._active: dict[Address, bool] = {}
        self._nonces: dict[Address, int] = {}
        self._head: bytes | None = None
        self._registry_version: bytes | None = None

    def forget(self, *, registry: bool = False) -> None:
        """Drops cached nonces (a block was added) and, with ``registry``, membership answers."""
        with self._lock:
            self._nonces.clear()
            if registry:
                self._active.clear()
                self._registry_version = None
                self._head = None

    def check(self, raw: bytes) -> tuple[SignedTransactionAPI, Address]:
        node = self._node
        limit = node.config.max_tx_bytes
        if len(raw) > limit:
            raise TransactionRejected(
                "oversized", f"transaction of {len(raw)} bytes exceeds the {limit}-byte limit"
            )
        if not raw:
            raise TransactionRejected("malformed", "empty transaction", code=INVALID_INPUT)
        type_id = raw[0] if raw[0] < 0x80 else 0
        if type_id in _UNSUPPORTED_TYPES:
            raise TransactionRejected(
                "type", f"{_UNSUPPORTED_TYPES[type_id]} transactions are not accepted"
            )
        try:
            with node.reading() as chain:
                builder = chain.get_vm(chain.get_canonical_head()).get_transaction_builder()
            tx = builder.decode(raw)
            tx.check_signature_validity()
            sender = Address(tx.sender)
        except Exception as exc:
            raise TransactionRejected(
                "malformed", f"malformed transaction: {exc}", code=INVALID_INPUT
            ) from None
        if tx.chain_id is None:
            raise TransactionRejected(
                "chain_id", "transactions without a chain id (pre-EIP-155) are not accepted"
            )
        if tx.chain_id != node.chain_id:
            raise TransactionRejected(
                "chain_id",
                f"transaction signed for chain id {tx.chain_id}, this chain is {node.chain_id}",
            )
        if tx.gas < tx.intrinsic_gas:
            raise TransactionRejected(
                "gas", f"intrinsic gas too low: {tx.gas} < {tx.intrinsic_gas}", code=INVALID_INPUT
            )
        head = node.head()
        if tx.gas > head.gas_limit:
            raise TransactionRejected(
                "gas", f"gas {tx.gas} exceeds the block gas limit {head.gas_limit}"
            )
        if not tx.to and sender != node.authority:
            raise TransactionRejected(
                "create",
                f"{to_checksum_address(sender)} may not create contracts: "
                "only the governor deploys",
            )
        fee = tx.gas * (tx.max_fee_per_gas if (tx.type_id or 0) >= 2 else tx.gas_price)
        if fee or tx.value:
            with node.reading() as chain:
                balance = chain.get_vm(chain.get_canonical_head()).state.get_balance(sender)
            if balance < fee + tx.value:
                raise TransactionRejected(
                    "funds",
                    f"insufficient funds: balance {balance} < value + gas × fee "
                    f"{fee + tx.value} (gas is free here: send fee fields of 0)",
                    code=INVALID_INPUT,
                )
        if not self.is_active(sender):
            raise TransactionRejected(
                "permission",
                f"sender {to_checksum_address(sender)} is not an active account of a "
                "registered organisation in the ParticipantRegistry",
            )
        return tx, sender

    def is_active(self, sender: Address) -> bool:
        """Whether ``sender`` may send transactions (registry membership, at the head).

        Answers are cached until the registry's account (hence its storage root) changes, which
        is exact: ``isActiveAccount`` reads nothing but the registry's storage.
        """
        node = self._node
        registry = node.registry
        if registry is None or sender == node.authority:
            return True
        with node.reading() as chain:
            head = chain.get_canonical_head()
            with self._lock:
                if self._head != head.hash:
                    version = HexaryTrie(chain.chaindb.db, head.state_root).get(keccak(registry))
                    if version != self._registry_version:
                        self._active.clear()
                        self._registry_version = version
                    self._head = head.hash
                if not self._registry_version:
                    return True  # not deployed yet
                cached = self._active.get(sender)
            if cached is not None:
                return cached
            result = node.execute(
                chain,
                head,
                sender=b"\x00" * 20,
                to=registry,
                data=_IS_ACTIVE + b"\x00" * 12 + bytes(sender),
                gas=1_000_000,
            )
        active = result.success and int.from_bytes(result.output[-32:] or b"\x00", "big") == 1
        with self._lock:
            self._active[sender] = active
        return active

    def state_nonce(self, sender: Address) -> int:
        """``sender``'s nonce at the head (cached until the next block)."""
        with self._lock:
            cached = self._nonces.get(sender)
        if cached is not None:
            return cached
        with self._node.reading() as chain:
            nonce = chain.get_vm(chain.get_canonical_head()).state.get_nonce(sender)
        with self._lock:
            self._nonces[sender] = nonce
        return int(nonce)
