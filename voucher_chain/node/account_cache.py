"""Caches of state that outlive one block — encoded accounts and storage values — shared by
the block producer and every reader.

py-evm reads every account a block touches from the state trie — a walk of several trie nodes,
each a database read and an RLP decode — because its account cache lives only as long as one
block's state object. Busy accounts (the senders, the registry, the system contracts) are the
same from block to block, so the node keeps their encoded accounts across blocks.

Exact by construction: :class:`AccountCache` holds accounts per state root (the latest root
and the one before, so readers a block behind and the producer a block ahead do not evict each
other). A state object reads through it only while its own trie is at a root the cache knows;
when the producer makes a block's state, the account changes of that block (py-evm's own diff)
carry the accounts over to the new root. Any other root — a failed block, a dev revert, a
reader at an older block — starts a fresh entry or reads the trie as usual.

Storage reads (``SLOAD`` of a slot the transaction has not written) walk the account's storage
trie the same way: under ``scripts/bench`` that walk was 15 % of the node's interpreter time.
:class:`SlotCache` keeps, per account, the storage values read at one storage root; what a
trie with a given root holds never changes, so a lookup at that root may use them — the
producer's and the readers' alike. When the producer commits an account's storage, the values
move to the new root with the written slots replaced (a new dict: readers still at the old root
keep theirs); a storage wipe (``new_trie``) or revert of one drops the account's entry. A lookup
uses the cache only while its trie is at the root it started from (no writes applied yet).
"""

from __future__ import annotations

import threading
from collections import deque
from itertools import islice
from typing import Any

from eth.abc import AccountStorageDatabaseAPI, AtomicDatabaseAPI, DatabaseAPI
from eth.constants import BLANK_ROOT_HASH
from eth.db.accesslog import KeyAccessLoggerDB
from eth.db.account import AccountDB
from eth.db.backends.base import BaseDB
from eth.db.backends.memory import MemoryDB
from eth.db.batch import BatchDB
from eth.db.cache import CacheDB
from eth.db.diff import DBDiff, DiffMissingError
from eth.db.hash_trie import HashTrie
from eth.db.journal import JournalDB
from eth.db.storage import CLEAR_COUNT_KEY_NAME, AccountStorageDB, StorageLookup
from eth_typing import Address, Hash32
from eth_utils.conversions import to_bytes
from trie.hexary import HexaryTrie

__all__ = [
    "AccountCache",
    "CachingAccountDB",
    "SlotCache",
    "caching_account_db_class",
]

_NO_DEFAULT: Any = object()


class AdvanceLog:
    """The last ``size`` advances of a cache, in order and numbered, for the node's read
    workers: each request carries a worker the ones it has not seen (:meth:`since`), and the
    worker's cache replays them instead of reading what changed from the trie again. Missing
    some is harmless — caches are keyed by root, and an advance from a root a cache is not at
    carries nothing — so the log is bounded and a worker that falls behind only misses."""

    def __init__(self, size: int) -> None:
        self._entries: deque[Any] = deque(maxlen=size)
        self.logged = 0
        self._lock = threading.Lock()

    def append(self, advance: Any) -> None:
        if self._entries.maxlen:
            with self._lock:
                self._entries.append(advance)
                self.logged += 1

    def since(self, seen: int) -> tuple[list[Any], int]:
        """The advances after the first ``seen`` (those still kept), and how many there were."""
        with self._lock:
            missing = min(self.logged - seen, len(self._entries))
            latest = list(islice(reversed(self._entries), missing))
            return latest[::-1], self.logged


class AccountCache:
    """Encoded accounts (address → RLP) per state root, for the latest root and the one
    before; one per node, shared by the producer and the readers. Holds at most ``size``
    accounts (then starts afresh: the busy ones come back at once)."""

    def __init__(self, size: int = 100_000, log_size: int = 0) -> None:
        self.size = size
        self.latest: tuple[bytes, dict[bytes, bytes]] = (b"", {})
        self.previous: tuple[bytes, dict[bytes, bytes]] = (b"", {})
        self.log = AdvanceLog(log_size)

    def known(self, root: bytes) -> dict[bytes, bytes] | None:
        """The accounts known at ``root``, if the cache is at it."""
        latest, previous = self.latest, self.previous
        if latest[0] == root:
            return latest[1]
        if previous[0] == root:
            return previous[1]
        return None

    def at(self, root: bytes) -> dict[bytes, bytes]:
        """The accounts known at ``root`` (a dict to add reads to), made the latest if new."""
        accounts = self.known(root)
        if accounts is None:
            accounts = {}
            self.latest, self.previous = (root, accounts), self.latest
        return accounts

    def put(self, accounts: dict[bytes, bytes], address: bytes, encoded: bytes) -> None:
        """Adds a read to ``accounts`` (a dict from :meth:`at`)."""
        if len(accounts) >= self.size:
            accounts.clear()
        accounts[address] = encoded

    def advance(self, old_root: bytes, new_root: bytes, changes: dict[bytes, bytes | None]) -> None:
        """The state moved from ``old_root`` to ``new_root`` by ``changes`` (address → encoded
        account, ``None`` for a deleted one); the accounts at ``old_root`` stay too, for
        readers still at the block before."""
        self.log.append((old_root, new_root, changes))
        latest, previous = self.latest, self.previous
        base = latest if latest[0] == old_root else previous if previous[0] == old_root else None
        if base is None:
            return  # nothing known at old_root: nothing to carry over
        accounts = dict(base[1])
        for address, encoded in changes.items():
            if encoded is None:
                accounts.pop(address, None)
            else:
                accounts[address] = encoded
        self.latest, self.previous = (new_root, accounts), base

    def replay(self, advances: list[Any]) -> None:
        """Another cache's advances, in order (a read worker following the producer)."""
        for advance in advances:
            self.advance(*advance)


#: one storage commit: address, old storage root, new storage root, {hashed slot: value}
Advance = tuple[bytes, bytes, bytes, dict[bytes, bytes]]


class SlotCache:
    """Per account, (storage root, {hashed slot: encoded value}) — the latest and the one
    before, so readers at the previous block and the producer at the next do not evict each
    other; one per node, shared by the producer and the readers. Holds at most ``size`` values
    in all (then starts afresh).

    The last ``log_size`` advances are kept for the node's read workers (:class:`AdvanceLog`,
    :meth:`replay`)."""

    def __init__(self, size: int = 200_000, log_size: int = 0) -> None:
        self.size = size
        self.accounts: dict[bytes, tuple[bytes, dict[bytes, bytes]]] = {}
        #: the entry each account had before (a reader at the previous block still uses it)
        self.previous: dict[bytes, tuple[bytes, dict[bytes, bytes]]] = {}
        self._count = 0
        self.log = AdvanceLog(log_size)

    def at(self, address: bytes, root: bytes) -> dict[bytes, bytes]:
        """The values known for ``address`` at ``root`` (a dict to add reads to)."""
        entry = self.accounts.get(address)
        if entry is not None and entry[0] == root:
            return entry[1]
        previous = self.previous.get(address)
        if previous is not None and previous[0] == root:
            return previous[1]
        values: dict[bytes, bytes] = {}
        if entry is not None:
            self.previous[address] = entry
        self.accounts[address] = (root, values)
        return values

    def added(self) -> None:
        self._count += 1
        if self._count > self.size:
            self.accounts, self.previous, self._count = {}, {}, 0

    def advance(
        self, address: bytes, old_root: bytes, new_root: bytes, writes: dict[bytes, bytes]
    ) -> None:
        """``address``'s storage went from ``old_root`` to ``new_root`` by ``writes``; the
        values at ``old_root`` stay too, for readers still at the block before."""
        self.log.append((address, old_root, new_root, writes))
        base = self.accounts.get(address)
        if base is None or base[0] != old_root:
            base = self.previous.get(address)
            if base is None or base[0] != old_root:
                return  # nothing known at old_root: nothing to carry over
        values = dict(base[1])  # readers at old_root may still hold base[1]
        values.update(writes)
        self._count += len(writes)
        self.previous[address] = base
        self.accounts[address] = (new_root, values)

    def replay(self, advances: list[Any]) -> None:
        """Another cache's advances, in order (a read worker following the producer)."""
        for advance in advances:
            self.advance(*advance)

    def forget(self, address: bytes) -> None:
        self.accounts.pop(address, None)
        self.previous.pop(address, None)


class _CachingStorageLookup(StorageLookup):
    """py-evm's storage trie lookup, reading through the :class:`SlotCache` while the trie is
    at its starting root, and moving the cache along when it commits its writes."""

    slot_cache: SlotCache
    _writes: dict[bytes, bytes] | None = None  # hashed slot → value since the starting root
    _wiped = False  # a wipe or its revert since the starting root: the writes don't tell all

    def __getitem__(self, key: bytes) -> bytes:
        written: object = self._write_trie  # py-evm types it non-optional; None until a write
        if written is not None:  # written to since: not the starting root's content
            return super().__getitem__(key)
        values = self.slot_cache.at(self._address, self._starting_root_hash)
        hashed = self._decode_key(key)
        value = values.get(hashed)
        if value is None:
            value = super().__getitem__(key)  # b"" when the slot is empty
            values[hashed] = value
            self.slot_cache.added()
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        super().__setitem__(key, value)
        self._record(key, value)

    def __delitem__(self, key: bytes) -> None:
        super().__delitem__(key)
        self._record(key, b"")

    def _record(self, key: bytes, value: bytes) -> None:
        if self._writes is None:
            self._writes = {}
        self._writes[self._decode_key(key)] = value

    def new_trie(self) -> int:
        self._wiped = True
        self.slot_cache.forget(self._address)
        return super().new_trie()

    def rollback_trie(self, trie_index: int) -> None:
        self._wiped = True
        self.slot_cache.forget(self._address)
        super().rollback_trie(trie_index)

    def commit_to(self, db: DatabaseAPI) -> None:
        old_root = self._starting_root_hash
        super().commit_to(db)
        writes, wiped = self._writes, self._wiped
        self._writes, self._wiped = None, False
        if writes is not None and not wiped:
            self.slot_cache.advance(self._address, old_root, self._starting_root_hash, writes)
        else:  # a wipe (or its revert) took part: start afresh at the new root
            self.slot_cache.forget(self._address)


class _CachingStorageDB(AccountStorageDB):
    """py-evm's account storage with :class:`_CachingStorageLookup` under its caches."""

    lookup_class: type[_CachingStorageLookup]

    def __init__(self, db: AtomicDatabaseAPI, storage_root: Hash32, address: Address) -> None:
        # py-evm's AccountStorageDB.__init__ (py-evm is pinned) on the caching lookup: calling
        # it and replacing the stack would build every layer twice, per account and execution
        self._address = address
        self._storage_lookup = self.lookup_class(db, storage_root, address)
        self._storage_cache = CacheDB(self._storage_lookup)
        self._locked_changes = JournalDB(self._storage_cache)
        self._journal_storage = JournalDB(self._locked_changes)
        self._accessed_slots: set[int] = set()
        self._clear_count = JournalDB(MemoryDB({CLEAR_COUNT_KEY_NAME: to_bytes(0)}))


class _TrieNodeBatch(BatchDB):
    """py-evm's batch of account-trie nodes (``read_through_deletes``: a delete never reaches
    the database nor hides a node from a read; it only drops the batch's own write of it),
    whose ``pop`` does not read the node first.

    When py-evm makes a state root it updates the account trie in a scratch copy and, at the
    end, pops from this batch every node the updates replaced — also those the scratch copy
    itself created and replaced, which exist nowhere: ``MutableMapping.pop`` reads each first,
    a SQLite miss apiece (6.5 % of the block producer's time under ``scripts/bench``).
    Here a pop drops the batch's own write of the node, if any, exactly as a delete would.
    """

    def __init__(self, db: DatabaseAPI) -> None:
        super().__init__(db, read_through_deletes=True)

    def pop(self, key: bytes, default: Any = _NO_DEFAULT) -> Any:
        try:
            value = self._track_diff[key]
        except DiffMissingError:
            if default is _NO_DEFAULT:
                return super().pop(key)  # what the base does for a node it must look up
            return default  # nothing of the batch's own to drop; reads still go through
        del self._track_diff[key]
        return value


class SlotCachingAccountDB(AccountDB):
    """py-evm's ``AccountDB`` whose account storages read through a :class:`SlotCache`, with
    its account trie over a :class:`_TrieNodeBatch` (py-evm's layers above it rebuilt as
    py-evm builds them: the pinned py-evm's ``AccountDB.__init__``)."""

    storage_db_class: type[_CachingStorageDB]

    def __init__(
        self, db: Any, state_root: Hash32 = BLANK_ROOT_HASH, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(db, state_root, *args, **kwargs)
        self._batchtrie = _TrieNodeBatch(self._raw_store_db)
        trie: Any = HexaryTrie(self._batchtrie, self.state_root, prune=True)
        self._trie = HashTrie(trie)  # as py-evm builds it (its own call is untyped there)
        self._trie_logger = KeyAccessLoggerDB(self._trie, log_missing_keys=False)
        self._trie_cache = CacheDB(self._trie_logger)
        self._journaltrie = JournalDB(self._trie_cache)

    def touch_account(self, address: Address) -> None:
        """py-evm writes a touched account back as it is, on every call frame: for an account
        that exists that changes nothing but costs an RLP encoding, a journal entry and, at the
        block's end, a write of the same value into the state trie. Only a missing account is
        created by a touch (EIP-161's clearing of empty ones is decided from the computation
        tree, not from these writes); ``verify --replay`` checks the state roots with py-evm's
        own account database."""
        if self._get_encoded_account(address, from_journal=True) == b"":
            super().touch_account(address)

    def _get_address_store(self, address: Address) -> AccountStorageDatabaseAPI:
        store = self._account_stores.get(address)
        if store is None:
            store = self.storage_db_class(
                self._raw_store_db, self._get_storage_root(address), address
            )
            self._account_stores[address] = store
        return store


class _CacheLayer(BaseDB):
    """Stands where py-evm's per-state ``CacheDB`` stands (between the account journal and the
    trie), but reads through the node's :class:`AccountCache` while the trie is at a root the
    cache knows (any other — a trie half-way through an update — reads the trie as usual)."""

    def __init__(self, trie: DatabaseAPI, cache: AccountCache, owner: CachingAccountDB) -> None:
        self._db = trie
        self._cache = cache
        self._owner = owner

    def __getitem__(self, key: bytes) -> bytes:
        accounts = self._cache.known(self._owner.state_root)
        if accounts is None:
            return self._db[key]
        value = accounts.get(key)
        if value is None:
            value = self._db[key]  # KeyError for an absent account: not cached
            self._cache.put(accounts, key, value)
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._db[key] = value  # the trie moves off the cache's root: it is advanced later

    def __delitem__(self, key: bytes) -> None:
        del self._db[key]

    def reset_cache(self) -> None:
        """Called by py-evm when the trie's root changed (a new state root was made)."""


class CachingAccountDB(SlotCachingAccountDB):
    """py-evm's ``AccountDB`` with :class:`_CacheLayer` instead of its own ``CacheDB``."""

    account_cache: AccountCache
    _pending_advance: tuple[bytes, DBDiff] | None = None

    def __init__(
        self, db: Any, state_root: Hash32 = BLANK_ROOT_HASH, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(db, state_root, *args, **kwargs)
        self.account_cache.at(self.state_root)  # this state's root becomes the latest known
        layer = _CacheLayer(self._trie_logger, self.account_cache, self)
        self._trie_cache = layer  # type: ignore[assignment]
        self._journaltrie = type(self._journaltrie)(layer)

    def _apply_account_diff_without_proof(self, diff: DBDiff, trie: Any) -> None:
        old_root = self.state_root
        super()._apply_account_diff_without_proof(diff, trie)
        self._pending_advance = (old_root, diff)

    def make_state_root(self) -> Any:
        self._pending_advance = None
        root = super().make_state_root()
        applied = self._take_pending_advance()  # set by the diff application above, if any
        if applied is not None:
            old_root, diff = applied
            changes: dict[bytes, bytes | None] = dict.fromkeys(diff.deleted_keys())
            changes.update(diff.pending_items())
            self.account_cache.advance(old_root, root, changes)
        return root

    def _take_pending_advance(self) -> tuple[bytes, DBDiff] | None:
        applied, self._pending_advance = self._pending_advance, None
        return applied


def caching_account_db_class(
    slots: SlotCache, accounts: AccountCache | None = None
) -> type[SlotCachingAccountDB]:
    """An account database class reading storage through ``slots`` and, when given, accounts
    through ``accounts`` (py-evm instantiates the class)."""
    lookup = type("CachingStorageLookup", (_CachingStorageLookup,), {"slot_cache": slots})
    storage = type("CachingStorageDB", (_CachingStorageDB,), {"lookup_class": lookup})
    if accounts is None:
        return type("SlotCachingAccountDB", (SlotCachingAccountDB,), {"storage_db_class": storage})
    attrs = {"storage_db_class": storage, "account_cache": accounts}
    return type("CachingAccountDB", (CachingAccountDB,), attrs)
