"""Verifying a copy of a chain without trusting the node that wrote it.

For every block from genesis to the head: the header's content hashes to the hash the
canonical index names; it links to its parent (hash and number); the authority's signature
over the block hash (the ``seals`` table) recovers to the authority named in the genesis
header's ``extra_data`` (optionally pinned by the caller); the transactions and receipts
hash to the header's ``transactionsRoot`` and ``receiptsRoot``; the node's transaction index
agrees with the block. The first inconsistency is reported. With ``replay``, every block is
also re-executed from genesis by py-evm with its own opcode loop (not the node's
:mod:`.interpreter`) and must give the same state, receipts and hashes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import rlp
from eth.db.atomic import AtomicDB
from eth.db.trie import make_trie_root_and_nodes
from eth_keys.datatypes import Signature
from eth_typing import Address, BlockNumber, Hash32
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from voucher_chain.node.chain import chain_class, genesis_params, genesis_state
from voucher_chain.node.core import CHAIN_FILE
from voucher_chain.node.errors import NodeConfigError
from voucher_chain.node.interpreter import reference_loop
from voucher_chain.node.store import Store

__all__ = ["VerifyReport", "verify_chain"]


@dataclass(frozen=True)
class VerifyReport:
    """``ok`` with ``blocks`` checked, or the first ``problem`` and the block it is in."""

    ok: bool
    blocks: int
    transactions: int
    authority: str
    problem: str | None = None
    block: int | None = None


def verify_chain(
    data_dir: Path,
    *,
    authority: str | None = None,
    replay: bool = False,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Checks the chain in ``data_dir``; ``authority`` pins the expected sealer; ``replay``
    also re-executes every block from genesis in memory (state, receipts, gas, bloom)."""
    path = data_dir / CHAIN_FILE
    if not path.exists():
        raise NodeConfigError(f"no chain at {path}")
    store = Store(path, synchronous="NORMAL")
    try:
        return _verify(store, authority, replay, progress)
    finally:
        store.close()


def _verify(
    store: Store, pinned: str | None, replay: bool, progress: Callable[[int], None] | None
) -> VerifyReport:
    chain_id = store.get_meta("chain_id")
    if chain_id is None:
        raise NodeConfigError("the data dir holds no chain metadata")
    chain = chain_class(int(chain_id))(store.db)
    chaindb = chain.chaindb
    genesis = chain.get_canonical_block_header_by_number(BlockNumber(0))
    sealer = to_checksum_address(genesis.extra_data[:20])
    head = chain.get_canonical_head()
    txs = 0

    def fail(number: int, problem: str) -> VerifyReport:
        return VerifyReport(
            ok=False,
            blocks=number,
            transactions=txs,
            authority=sealer,
            problem=problem,
            block=number,
        )

    if pinned is not None and to_checksum_address(pinned) != sealer:
        return fail(0, f"genesis names authority {sealer}, expected {pinned}")
    if store.get_meta("authority") != sealer:
        return fail(0, f"metadata authority {store.get_meta('authority')} != genesis {sealer}")
    replayer = None
    if replay:
        cls = chain_class(int(chain_id))
        replayer = cls.from_genesis(
            AtomicDB(),
            genesis_params(authority=Address(genesis.extra_data[:20]), timestamp=genesis.timestamp),
            genesis_state({Address(genesis.extra_data[:20]): 0}),
        )
        if replayer.get_canonical_head().hash != genesis.hash:
            return fail(0, "the genesis block is not the standard genesis for its authority")
    parent = None
    for number in range(head.block_number + 1):
        block_hash = chaindb.get_canonical_block_hash(BlockNumber(number))
        try:
            header = chaindb.get_block_header_by_hash(block_hash)
        except Exception as exc:
            return fail(number, f"header missing: {exc}")
        if keccak(rlp.encode(header)) != block_hash:
            return fail(number, "header content does not hash to the block's hash")
        if parent is not None:
            if header.parent_hash != parent.hash:
                return fail(number, "parent hash does not link to the previous block")
            if header.block_number != parent.block_number + 1:
                return fail(number, "block number does not follow its parent's")
            if header.timestamp < parent.timestamp:
                return fail(number, "timestamp before its parent's")
        seal = store.seal(number)
        if seal is None:
            return fail(number, "no seal")
        sealed_hash, signature = seal
        if sealed_hash != block_hash:
            return fail(number, "the seal signs another block hash")
        try:
            signer = Signature(signature).recover_public_key_from_msg_hash(Hash32(block_hash))
        except Exception as exc:
            return fail(number, f"unreadable seal: {exc}")
        if signer.to_checksum_address() != sealer:
            return fail(number, f"sealed by {signer.to_checksum_address()}, not {sealer}")
        if number > 0:
            try:
                block = chain.get_block_by_header(header)
                receipts = block.get_receipts(chaindb)
            except Exception as exc:
                return fail(number, f"block body unreadable: {exc}")
            if make_trie_root_and_nodes(block.transactions)[0] != header.transaction_root:
                return fail(number, "transactions do not match the transactions root")
            if make_trie_root_and_nodes(receipts)[0] != header.receipt_root:
                return fail(number, "receipts do not match the receipts root")
            if len(receipts) != len(block.transactions):
                return fail(number, "receipt count differs from transaction count")
            indexed = store.block_transactions(number)
            if [t["hash"] for t in indexed] != [
                "0x" + bytes(t.hash).hex() for t in block.transactions
            ]:
                return fail(number, "the transaction index disagrees with the block")
            if replayer is not None:
                try:
                    # py-evm's own opcode loop: the oracle for the node's (see .interpreter)
                    with reference_loop():
                        replayer.import_block(block)
                except Exception as exc:
                    return fail(number, f"re-execution disagrees: {exc}")
            txs += len(block.transactions)
        parent = header
        if progress is not None and number % 1000 == 0:
            progress(number)
    return VerifyReport(ok=True, blocks=head.block_number + 1, transactions=txs, authority=sealer)
