"""The node: a py-evm chain on SQLite, a mempool, admission rules and a block producer.

Threads: any number of callers submit transactions and read state; one producer thread (or
the caller of :meth:`Node.seal`) builds blocks. The producer writes through its own SQLite
connection and commits each block — py-evm data, indexes and seal at once — before the block's
transactions leave the mempool, so a receipt a client has seen is on disk. Readers use a
second connection and see the last committed block.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eth._utils.address import generate_contract_address
from eth.abc import BlockAPI, BlockHeaderAPI, TransactionBuilderAPI
from eth.constants import GENESIS_PARENT_HASH
from eth_keys.datatypes import PrivateKey
from eth_typing import Address, BlockNumber, Hash32
from eth_utils.address import to_canonical_address, to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError

from voucher_chain.node import execution, views
from voucher_chain.node.account_cache import AccountCache, SlotCache
from voucher_chain.node.admission import Admission
from voucher_chain.node.chain import VoucherChainEVM, chain_class, genesis_params, genesis_state
from voucher_chain.node.config import NodeConfig
from voucher_chain.node.errors import NodeConfigError, TransactionRejected
from voucher_chain.node.execution import CallResult, Clock, pending_timestamp
from voucher_chain.node.keys import load_key_file, passphrase_from_env
from voucher_chain.node.mempool import Mempool, PendingTx
from voucher_chain.node.read_pool import ReadPool
from voucher_chain.node.store import LogRow, Store

__all__ = ["CallResult", "Node"]

log = logging.getLogger("voucher_chain.node")

CHAIN_FILE = "chain.sqlite"
KEY_FILE = "authority.key"


class Node:
    """One embedded chain node. Use as a context manager, or call :meth:`close`."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        if (config.dev_accounts or config.frozen_clock) and not config.dev:
            raise NodeConfigError("unlocked dev accounts and a frozen clock exist only in dev mode")
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self._key = PrivateKey(self._load_key())
        self.authority = Address(self._key.public_key.to_canonical_address())
        self.chain_id = config.chain_id
        path = config.data_dir / CHAIN_FILE
        self._store = Store(path, synchronous=config.synchronous)
        #: storage values by (storage root, slot): exact for any state, shared by all
        log_size = 20_000 if config.read_workers else 0  # for the workers' caches to follow
        self.slot_cache = SlotCache(log_size=log_size)
        #: encoded accounts by state root (the latest two), shared by all
        self.account_cache = AccountCache(log_size=log_size)
        self._chain_cls = chain_class(
            config.chain_id,
            self._pending_timestamp if config.dev else None,
            account_cache=self.account_cache,
            slot_cache=self.slot_cache,
        )
        self._write_lock = threading.RLock()
        self._readers: list[Store] = []
        self._idle_readers: list[tuple[Store, VoucherChainEVM]] = []
        self._readers_lock = threading.Lock()
        self._local = threading.local()
        self._pool_lock = threading.Condition()
        self._blocks = threading.Condition()
        self._pool = Mempool()
        self.dropped: dict[bytes, str] = {}
        #: Dev mode only (:meth:`travel`): seconds added to the wall clock for new blocks.
        self.time_offset = 0
        #: Dev mode: the timestamp the next block must carry (``evm_setNextBlockTimestamp``).
        self.next_timestamp: int | None = None
        self._snapshots: list[tuple[int, int]] = []
        try:
            self._open_chain()
        except BaseException:
            self._store.close()
            raise
        self._chain: VoucherChainEVM = self._chain_cls(self._store.db)  # the producer's
        #: the last committed head, published only after its block is on disk
        self._head: BlockHeaderAPI = self._chain.get_canonical_head()
        #: tx hash → events of callers of :meth:`wait_for_receipt`
        self._receipt_waiters: dict[bytes, list[threading.Event]] = {}
        self._waiters_lock = threading.Lock()
        registry = config.registry or self._store.get_meta("registry")
        self.registry: Address | None = (
            Address(to_canonical_address(registry)) if registry else None
        )
        self.admission = Admission(self)
        self._last_block_time = 0.0
        self._stopped = threading.Event()
        self._producer: threading.Thread | None = None
        self.block_listeners: list[Callable[[int], None]] = []
        self.dev_keys: list[bytes] = [
            self._key.to_bytes() if i == 0 else keccak(self._key.to_bytes() + i.to_bytes(4, "big"))
            for i in range(config.dev_accounts)
        ]
        #: calls and estimates in worker processes, if configured (:mod:`.read_pool`)
        self.read_pool: ReadPool | None = None
        if config.read_workers:
            self.read_pool = ReadPool(
                path,
                config.chain_id,
                dev=config.dev,
                workers=config.read_workers,
                slots=self.slot_cache,
                accounts=self.account_cache,
            )
        if config.auto_seal:
            self.start()

    # -- lifecycle --------------------------------------------------------------------------------

    def _load_key(self) -> bytes:
        if self.config.authority_key is not None:
            return self.config.authority_key
        if not self.config.dev:
            raise NodeConfigError("an authority key is required outside dev mode")
        path = self.config.data_dir / KEY_FILE
        return load_key_file(path, passphrase_from_env(dev=True), create=True)

    def _open_chain(self) -> None:
        store = self._store
        stored_id = store.get_meta("chain_id")
        if stored_id is None:
            params = genesis_params(authority=self.authority, timestamp=int(time.time()))
            genesis = self._chain_cls.from_genesis(
                store.db, params, genesis_state({self.authority: 0})
            )
            head = genesis.get_canonical_head()
            store.set_meta("chain_id", self.chain_id)
            store.set_meta("authority", to_checksum_address(self.authority))
            store.set_meta("genesis_hash", views.hexb(head.hash))
            store.add_seal(0, head.hash, self._sign(head.hash))
            store.commit()
            log.info("created genesis %s (chain id %d)", views.hexb(head.hash), self.chain_id)
            return
        if stored_id != self.chain_id:
            raise NodeConfigError(
                f"{self.config.data_dir} holds chain id {stored_id}, not {self.chain_id}"
            )
        if store.get_meta("authority") != to_checksum_address(self.authority):
            raise NodeConfigError(
                f"{self.config.data_dir} is sealed by {store.get_meta('authority')}, "
                f"not by this node's key {to_checksum_address(self.authority)}"
            )

    def start(self) -> None:
        """Starts the producer thread (done by the constructor when ``auto_seal``)."""
        if self._producer is None:
            self._producer = threading.Thread(
                target=self._produce, name="voucher-chain-producer", daemon=True
            )
            self._producer.start()

    def close(self) -> None:
        """Stops the producer (after sealing what is pending) and closes the database."""
        self._stopped.set()
        with self._pool_lock:
            self._pool_lock.notify_all()
        if self._producer is not None:
            self._producer.join()
            self._producer = None
        if self.read_pool is not None:
            self.read_pool.close()
        with self._write_lock, self._readers_lock:
            self._store.close()
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            self._idle_readers.clear()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_registry(self, address: str) -> None:
        """Enforces membership of the ParticipantRegistry at ``address`` from now on."""
        with self._write_lock:
            self.registry = Address(to_canonical_address(address))
            self._store.set_meta("registry", to_checksum_address(address))
            self._store.commit()
        self.admission.forget(registry=True)

    def set_meta(self, key: str, value: Any) -> None:
        with self._write_lock:
            self._store.set_meta(key, value)
            self._store.commit()

    def get_meta(self, key: str) -> Any:
        with self.reading():
            return self.reader_store.get_meta(key)

    # -- reading ----------------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[VoucherChainEVM]:
        """This thread's reader chain, at the last committed block.

        Each reader has its own SQLite connection from a pool (WAL: readers never wait for the
        producer, nor for each other); nothing py-evm stages while executing is kept.
        """
        with self._readers_lock:
            reader = self._idle_readers.pop() if self._idle_readers else None
        if reader is None:
            store = Store(self._store.path, reader=True, cache=self._store.cache)
            reader = (store, self._chain_cls(store.db))
            with self._readers_lock:
                self._readers.append(store)
        outer = getattr(self._local, "store", None)
        self._local.store = reader[0]
        try:
            yield reader[1]
        finally:
            self._local.store = outer
            reader[0].rollback()
            with self._readers_lock:
                self._idle_readers.append(reader)

    @property
    def reader_store(self) -> Store:
        """The read connection of the current :meth:`reading` block of this thread."""
        store: Store = self._local.store
        return store

    def head(self) -> BlockHeaderAPI:
        """The last committed block's header (kept in memory: no database read)."""
        return self._head

    @property
    def transaction_builder(self) -> type[TransactionBuilderAPI]:
        """Decodes raw transactions (the chain's one VM class; no database needed)."""
        vm_class = self._chain_cls.vm_configuration[-1][1]
        return vm_class.get_transaction_builder()

    #: The header a block tag or number designates (``pending`` = the head).
    header_at = staticmethod(execution.header_at)

    def block(self, chain: VoucherChainEVM, header: BlockHeaderAPI) -> BlockAPI:
        return chain.get_block_by_header(header)

    #: Executes a message on top of a header's state, as a block following it would.
    execute = staticmethod(execution.execute)

    def pending_nonce(self, address: bytes) -> int:
        with self.reading() as chain:
            header = chain.get_canonical_head()
            state_nonce = chain.get_vm(header).state.get_nonce(Address(address))
        with self._pool_lock:
            pending = self._pool.next_nonce(Address(address))
        return max(state_nonce, pending or 0)

    # -- writing ----------------------------------------------------------------------------------

    def submit(self, raw: bytes) -> bytes:
        """Admits a signed raw transaction to the mempool; returns its hash.

        Raises :class:`TransactionRejected` saying why when it is refused.
        """
        tx, sender = self.admission.check(raw)
        with self._pool_lock:
            if tx.hash in self._pool:
                raise TransactionRejected("known", "already known")
            # a sender's pending transactions follow its nonce at the head: the head is read
            # only for a sender with none pending
            expected = self._pool.next_nonce(sender)
            if expected is None:
                expected = self.admission.state_nonce(sender)
            if tx.nonce < expected:
                raise TransactionRejected(
                    "nonce",
                    f"nonce too low: next nonce {expected}, tx nonce {tx.nonce}",
                    code=-32000,
                )
            if tx.nonce > expected:
                raise TransactionRejected(
                    "nonce",
                    f"nonce too high: next nonce {expected}, tx nonce {tx.nonce} "
                    "(the node does not queue transactions behind a gap)",
                    code=-32000,
                )
            self._pool.add(tx, sender, len(raw))
            self._pool_lock.notify_all()
        if self.config.automine:
            self.seal()
        return bytes(tx.hash)

    def pending_count(self) -> int:
        with self._pool_lock:
            return len(self._pool)

    def seal(self) -> int | None:
        """Seals the pending transactions into one block now; its number (``None`` if none)."""
        with self._write_lock:
            with self._pool_lock:
                head = self._chain.get_canonical_head()
                selected = self._pool.select(
                    max_txs=self.config.max_block_txs, max_gas=head.gas_limit
                )
            if not selected:
                return None
            # the interval runs from the start of a block: under load, blocks follow each other
            self._last_block_time = time.monotonic()
            try:
                included, dropped = self._build(selected)
            except Exception as exc:
                # never build on a half-written block, and never retry a block that cannot be
                # built forever: its transactions are dropped (their senders see no receipt)
                self._store.rollback()
                log.exception("could not build a block of %d transactions", len(selected))
                included, dropped = [], [(p, f"block building failed: {exc}") for p in selected]
            self._head = self._chain.get_canonical_head()
            done = {bytes(p.tx.hash) for p in included}
            with self._pool_lock:
                self.admission.block_added(
                    {p.sender: p.tx.nonce + 1 for p in included}, {p.sender for p, _ in dropped}
                )
                self._pool.remove(done)
                for pending, reason in dropped:
                    for gone in self._pool.drop_sender_from(pending.sender, pending.tx.nonce):
                        done.add(bytes(gone.tx.hash))
                        self.dropped[bytes(gone.tx.hash)] = reason
                        log.warning("dropped %s: %s", views.hexb(gone.tx.hash), reason)
            self._wake_receipt_waiters(done)
            if not included:
                return None
            number = self._head.block_number
        with self._blocks:
            self._blocks.notify_all()
        for listener in list(self.block_listeners):
            listener(number)
        return number

    def travel(self, seconds: int) -> int:
        """Dev mode: moves chain time ``seconds`` ahead (never back) and seals a block — empty
        if nothing is pending — at the new time; returns its number. For tests of deadlines."""
        if not self.config.dev:
            raise NodeConfigError("time travel exists only in dev mode")
        if seconds < 0:
            raise ValueError("chain time never goes backwards")
        with self._write_lock:
            self.time_offset += seconds
            number = self.seal()
            if number is None:  # nothing pending: an empty block carries the new time
                self._last_block_time = time.monotonic()
                block, receipts = self._build_block([])
                self._index(block, receipts)
                self._store.add_seal(block.number, block.hash, self._sign(block.hash))
                self._store.commit()
                self._head = block.header
                number = block.number
        with self._blocks:
            self._blocks.notify_all()
        return int(number)

    def set_next_block_timestamp(self, timestamp: int) -> None:
        """Dev mode: the next block carries exactly ``timestamp`` (not before the head's)."""
        if not self.config.dev:
            raise NodeConfigError("time travel exists only in dev mode")
        if timestamp < self.head().timestamp:
            raise ValueError("chain time never goes backwards")
        with self._write_lock:
            self.next_timestamp = timestamp

    def snapshot(self) -> int:
        """Dev mode: an id to :meth:`revert` to (the head block and the time offset)."""
        if not self.config.dev:
            raise NodeConfigError("snapshots exist only in dev mode")
        with self._write_lock:
            self._snapshots.append(
                (self._chain.get_canonical_head().block_number, self.time_offset)
            )
            return len(self._snapshots)

    def revert(self, snapshot_id: int) -> bool:
        """Dev mode: rewinds the chain to ``snapshot_id``'s head, drops the blocks after it and
        everything pending, and forgets that snapshot and later ones (as hardhat/anvil do)."""
        if not self.config.dev:
            raise NodeConfigError("snapshots exist only in dev mode")
        with self._write_lock:
            if not 1 <= snapshot_id <= len(self._snapshots):
                return False
            number, offset = self._snapshots[snapshot_id - 1]
            del self._snapshots[snapshot_id - 1 :]
            header = self._chain.get_canonical_block_header_by_number(BlockNumber(number))
            self._chain.chaindb._set_as_canonical_chain_head(  # type: ignore[attr-defined]
                self._store.db, header, GENESIS_PARENT_HASH
            )
            self._store.drop_blocks_after(number)
            self._store.commit()
            self._head = header
            self.time_offset = offset
            self.next_timestamp = None
            with self._pool_lock:
                self._pool = Mempool()
                self.admission.forget(registry=True)
        return True

    def wait_for_receipt(self, tx_hash: bytes, timeout: float) -> dict[str, Any] | None:
        """The JSON-RPC receipt of ``tx_hash``, waiting up to ``timeout`` seconds for the block
        that includes it; ``None`` at once if the node does not know the transaction (never
        sent, or dropped), or after the timeout. Woken by the producer as soon as the block is
        committed — no polling."""
        event = threading.Event()
        with self._waiters_lock:  # registered before looking: a block sealed now wakes us
            self._receipt_waiters.setdefault(tx_hash, []).append(event)
        try:
            with self._pool_lock:
                pending = tx_hash in self._pool
            # a transaction leaves the pool only after its block is committed: if it is no
            # longer pending, its receipt (if any) is visible now
            receipt = self._stored_receipt(tx_hash)
            if receipt is None and pending and event.wait(timeout):
                receipt = self._stored_receipt(tx_hash)
            return receipt
        finally:
            with self._waiters_lock:
                waiting = self._receipt_waiters.get(tx_hash, [])
                if event in waiting:
                    waiting.remove(event)
                if not waiting:
                    self._receipt_waiters.pop(tx_hash, None)

    def _stored_receipt(self, tx_hash: bytes) -> dict[str, Any] | None:
        with self.reading():
            return self.reader_store.receipt(tx_hash)

    def _wake_receipt_waiters(self, tx_hashes: set[bytes]) -> None:
        with self._waiters_lock:
            if not self._receipt_waiters:
                return
            for tx_hash in tx_hashes:
                for event in self._receipt_waiters.get(tx_hash, ()):
                    event.set()

    def wait_for_block(self, after: int, timeout: float) -> bool:
        """Waits until the head is above ``after``; whether it is."""
        deadline = time.monotonic() + timeout
        with self._blocks:
            while self.head().block_number <= after:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._blocks.wait(remaining)
        return True

    def _produce(self) -> None:
        interval = self.config.block_interval
        while True:
            with self._pool_lock:
                while not len(self._pool) and not self._stopped.is_set():
                    self._pool_lock.wait(0.5)
                if self._stopped.is_set() and not len(self._pool):
                    return
            delay = self._last_block_time + interval - time.monotonic()
            if delay > 0 and not self._stopped.is_set():
                time.sleep(delay)
            try:
                self.seal()
            except Exception:  # never let the producer die silently
                log.exception("sealing failed")
                time.sleep(interval)

    def _build(
        self, selected: list[PendingTx]
    ) -> tuple[list[PendingTx], list[tuple[PendingTx, str]]]:
        """Builds, indexes, seals and commits one block of ``selected`` (those still valid)."""
        chain = self._chain
        head = chain.get_canonical_head()
        state = chain.get_vm(head).state
        nonces: dict[Address, int] = {}
        good: list[PendingTx] = []
        dropped: list[tuple[PendingTx, str]] = []
        for pending in selected:
            expected = nonces.get(pending.sender)
            if expected is None:
                expected = state.get_nonce(pending.sender)
            if pending.tx.nonce != expected or pending.sender in {d.sender for d, _ in dropped}:
                dropped.append((pending, f"nonce {pending.tx.nonce} no longer next ({expected})"))
                continue
            nonces[pending.sender] = expected + 1
            good.append(pending)
        try:
            block, receipts = self._build_block(good)
        except (ValidationError, ValueError) as exc:
            self._store.rollback()
            log.warning("block of %d txs failed (%s); checking them one by one", len(good), exc)
            good, invalid = self._applicable(good)
            dropped.extend(invalid)
            block, receipts = self._build_block(good)
        self._index(block, receipts)
        self._store.add_seal(block.number, block.hash, self._sign(block.hash))
        self._store.commit()
        return good, dropped

    def _build_block(self, txs: list[PendingTx]) -> tuple[BlockAPI, tuple[Any, ...]]:
        timestamp = self._pending_timestamp(self._chain.get_canonical_head())
        if self.next_timestamp is not None:
            self.next_timestamp = None
            if not self.config.frozen_clock:  # the wall clock goes on from there
                self.time_offset = timestamp - int(time.time())
        elif self.config.frozen_clock:
            self.time_offset = 0
        block, receipts, _ = self._chain.build_block([p.tx for p in txs], timestamp=timestamp)
        return block, receipts

    def clock(self) -> Clock:
        """The dev clock's state: what the next block's timestamp follows."""
        return Clock(self.config.frozen_clock, self.time_offset, self.next_timestamp)

    def _pending_timestamp(self, parent: BlockHeaderAPI) -> int:
        """The timestamp the block after ``parent`` gets (:func:`execution.pending_timestamp`)."""
        return pending_timestamp(parent, self.clock())

    def _applicable(
        self, txs: list[PendingTx]
    ) -> tuple[list[PendingTx], list[tuple[PendingTx, str]]]:
        """Which of ``txs`` apply one after the other on the head (the slow, rare path)."""
        vm = self._chain.get_vm(self._chain.get_canonical_head())
        state = vm.state
        good: list[PendingTx] = []
        bad: list[tuple[PendingTx, str]] = []
        for pending in txs:
            snapshot = state.snapshot()
            try:
                state.apply_transaction(pending.tx)
            except (ValidationError, ValueError) as exc:
                state.revert(snapshot)
                bad.append((pending, str(exc)))
            else:
                state.commit(snapshot)
                good.append(pending)
        self._store.rollback()
        return good, bad

    def _index(self, block: BlockAPI, receipts: tuple[Any, ...]) -> None:
        rows: list[tuple[bytes, int, dict[str, Any], dict[str, Any]]] = []
        log_rows: list[LogRow] = []
        previous_gas = 0
        log_index = 0
        for i, (tx, receipt) in enumerate(zip(block.transactions, receipts, strict=True)):
            created = generate_contract_address(tx.sender, tx.nonce) if not tx.to else None
            receipt_view, logs = views.receipt_and_logs(
                tx,
                receipt,
                block_hash=block.hash,
                block_number=block.number,
                index=i,
                gas_used=receipt.gas_used - previous_gas,
                first_log_index=log_index,
                contract_address=created,
            )
            tx_view = views.transaction_view(
                tx, block_hash=block.hash, block_number=block.number, index=i
            )
            rows.append((bytes(tx.hash), i, tx_view, receipt_view))
            for raw_log, view in zip(receipt.logs, logs, strict=True):
                topics = [t.to_bytes(32, "big") for t in raw_log.topics]
                log_rows.append((block.number, log_index, bytes(raw_log.address), topics, view))
                log_index += 1
            previous_gas = receipt.gas_used
        self._store.add_transactions(block.number, rows)
        self._store.add_logs(log_rows)

    def _sign(self, block_hash: bytes) -> bytes:
        return bytes(self._key.sign_msg_hash(Hash32(block_hash)).to_bytes())

    def authority_sign_transaction(self, tx: dict[str, Any]) -> bytes:
        """Signs ``tx`` with the authority (governor) key; for the dev deployment."""
        from eth_account import Account

        return bytes(Account.sign_transaction(tx, self._key.to_bytes()).raw_transaction)

    @property
    def authority_key(self) -> bytes:
        """The authority's private key (the dev deployment and tests sign with it)."""
        return bytes(self._key.to_bytes())
