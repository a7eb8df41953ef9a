"""Admission: the checks a raw transaction passes before it may enter the mempool.

In order: size, RLP decoding, signature, type, chain id (py-evm itself does not check it),
gas, funds, contract creation (governor only), then membership of the ParticipantRegistry
(``isActiveAccount(sender)`` executed on the head state; every sender is allowed until a
registry is configured and has code). Nonces are checked by the node against the mempool.
Each refusal is a :class:`TransactionRejected` with a short ``reason`` tag and a sentence.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import rlp
from eth.abc import DatabaseAPI, SignedTransactionAPI
from eth.constants import SECPK1_N
from eth.rlp.accounts import Account
from eth_typing import Address
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError
from trie.hexary import HexaryTrie

from voucher_chain.node.errors import INVALID_INPUT, TransactionRejected

if TYPE_CHECKING:
    from voucher_chain.node.core import Node

__all__ = ["Admission", "account_nonce"]

_IS_ACTIVE = keccak(text="isActiveAccount(address)")[:4]
_UNSUPPORTED_TYPES = {3: "blob (EIP-4844)", 4: "set-code (EIP-7702)"}
_HALF_N = SECPK1_N // 2


class Admission:
    """Checks transactions for one node.

    Cheap on the hot path: the transaction decoder is the VM class's (no database), the sender
    is recovered once (and kept on the transaction object, so block building does not recover
    it again), registry answers are cached until the registry's storage changes, and each
    sender's nonce at the head is cached and advanced by the producer as blocks are added.
    """

    def __init__(self, node: Node) -> None:
        self._node = node
        self._builder = node.transaction_builder
        self._lock = threading.Lock()
        self._active: dict[Address, bool] = {}
        #: sender → nonce at the head; ``_epoch`` counts changes, so that a nonce read at an
        #: older head is never stored over one the producer has just advanced
        self._nonces: dict[Address, int] = {}
        self._epoch = 0
        self._head: bytes | None = None
        self._registry_version: bytes | None = None

    def forget(self, *, registry: bool = False) -> None:
        """Drops cached nonces (the chain was rewound) and, with ``registry``, membership
        answers."""
        with self._lock:
            self._nonces.clear()
            self._epoch += 1
            if registry:
                self._active.clear()
                self._registry_version = None
                self._head = None

    def block_added(self, next_nonces: Mapping[Address, int], unsure: Iterable[Address]) -> None:
        """A block was committed: ``next_nonces`` are its senders' nonces at the new head (no
        other account's nonce changes: only a sender's own transaction moves it); the nonces
        of ``unsure`` senders (whose transactions were dropped) are read again when needed."""
        with self._lock:
            self._nonces.update(next_nonces)
            for sender in unsure:
                self._nonces.pop(sender, None)
            self._epoch += 1

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
            tx = self._builder.decode(raw)
            tx.validate()  # field ranges (and, for legacy transactions, the signature)
            if tx.s > _HALF_N:  # EIP-2, for every type (py-evm checks legacy ones only)
                raise ValidationError("signature s value above secp256k1n/2")
            sender = Address(tx.sender)  # one recovery; py-evm caches it on the object
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
        is exact: ``isActiveAccount`` reads nothing but the registry's storage. The registry's
        account is looked up once per new head.
        """
        node = self._node
        registry = node.registry
        if registry is None or sender == node.authority:
            return True
        head = node.head()
        with self._lock:
            fresh = self._head == head.hash
            cached = self._active.get(sender) if fresh else None
            deployed = bool(self._registry_version)
        if fresh and (cached is not None or not deployed):
            return True if not deployed else bool(cached)
        with node.reading() as chain:
            # the reader's snapshot is at least as new as ``head`` (committed before it was
            # published), so ``head``'s state is there
            version = HexaryTrie(chain.chaindb.db, head.state_root).get(keccak(registry))
            with self._lock:
                if self._head != head.hash:
                    if version != self._registry_version:
                        self._active.clear()
                        self._registry_version = version
                    self._head = head.hash
                cached = self._active.get(sender)
            if not version:
                return True  # not deployed yet
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
            if self._head == head.hash:
                self._active[sender] = active
        return active

    def state_nonce(self, sender: Address) -> int:
        """``sender``'s nonce at the head (cached; advanced by :meth:`block_added`)."""
        with self._lock:
            cached = self._nonces.get(sender)
            epoch = self._epoch
        if cached is not None:
            return cached
        with self._node.reading() as chain:
            state_root = chain.get_canonical_head().state_root
            nonce = account_nonce(chain.chaindb.db, state_root, sender)
        with self._lock:
            if self._epoch == epoch:  # no block since: the value is not older than the cache
                self._nonces[sender] = nonce
        return nonce


def account_nonce(db: DatabaseAPI, state_root: bytes, address: Address) -> int:
    """``address``'s nonce in the state ``state_root`` (read from the trie, no VM built)."""
    encoded = HexaryTrie(db, state_root).get(keccak(address))
    if not encoded:
        return 0
    return int(rlp.decode(encoded, sedes=Account).nonce)
