"""Pending transactions, kept per sender in nonce order.

A sender's queue holds consecutive nonces only (the node refuses gaps at admission), so a
block takes each sender's queue from the front. Senders are served in the order their oldest
pending transaction arrived, round-robin, so one busy sender cannot starve the others.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass, field

from eth.abc import SignedTransactionAPI
from eth_typing import Address

__all__ = ["Mempool", "PendingTx"]


@dataclass(frozen=True)
class PendingTx:
    tx: SignedTransactionAPI
    sender: Address
    raw_size: int
    seq: int = field(compare=False)


class Mempool:
    """Not thread-safe: the node guards it with its pool lock."""

    def __init__(self) -> None:
        self._by_sender: OrderedDict[Address, list[PendingTx]] = OrderedDict()
        self._hashes: set[bytes] = set()
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._hashes

    def next_nonce(self, sender: Address) -> int | None:
        """The nonce after ``sender``'s last pending transaction, ``None`` if it has none."""
        queue = self._by_sender.get(sender)
        return queue[-1].tx.nonce + 1 if queue else None

    def first_nonce(self, sender: Address) -> int | None:
        queue = self._by_sender.get(sender)
        return queue[0].tx.nonce if queue else None

    def add(self, tx: SignedTransactionAPI, sender: Address, raw_size: int) -> None:
        self._by_sender.setdefault(sender, []).append(
            PendingTx(tx=tx, sender=sender, raw_size=raw_size, seq=next(self._seq))
        )
        self._hashes.add(tx.hash)

    def select(self, *, max_txs: int, max_gas: int) -> list[PendingTx]:
        """Up to ``max_txs`` transactions (``max_gas`` gas in all) for the next block, each
        sender's in nonce order, senders interleaved. Nothing is removed."""
        queues = [list(q) for q in self._by_sender.values()]
        chosen: list[PendingTx] = []
        gas = 0
        depth = 0
        while len(chosen) < max_txs:
            progressed = False
            for queue in queues:
                if depth < len(queue) and len(chosen) < max_txs:
                    pending = queue[depth]
                    if gas + pending.tx.gas > max_gas:
                        # keep the sender's nonce order: stop taking from this sender
                        del queue[depth:]
                        continue
                    chosen.append(pending)
                    gas += pending.tx.gas
                    progressed = True
            if not progressed:
                break
            depth += 1
        return chosen

    def remove(self, tx_hashes: set[bytes]) -> None:
        """Drops the given transactions, and with them any later ones of the same senders
        whose nonce order they would break (those are returned to nobody: they were dropped)."""
        for sender in list(self._by_sender):
            queue = self._by_sender[sender]
            kept = [p for p in queue if p.tx.hash not in tx_hashes]
            if len(kept) != len(queue):
                for p in queue:
                    if p.tx.hash in tx_hashes:
                        self._hashes.discard(p.tx.hash)
                if kept:
                    self._by_sender[sender] = kept
                else:
                    del self._by_sender[sender]

    def drop_sender_from(self, sender: Address, nonce: int) -> list[PendingTx]:
        """Removes ``sender``'s transactions with nonce ≥ ``nonce``; returns them."""
        queue = self._by_sender.get(sender, [])
        dropped = [p for p in queue if p.tx.nonce >= nonce]
        kept = [p for p in queue if p.tx.nonce < nonce]
        for p in dropped:
            self._hashes.discard(p.tx.hash)
        if kept:
            self._by_sender[sender] = kept
        else:
            self._by_sender.pop(sender, None)
        return dropped
