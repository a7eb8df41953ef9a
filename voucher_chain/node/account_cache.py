"""A cache of encoded accounts that outlives one block, for the block producer.

py-evm reads every account a block touches from the state trie — a walk of several trie nodes,
each a database read and an RLP decode — because its account cache lives only as long as one
block's state object. Busy accounts (the senders, the registry, the system contracts) are the
same from block to block, so the producer keeps their encoded accounts across blocks.

Exact by construction: the cache belongs to one state root. A state object uses it only while
its own trie is at that root; when a block's state is made, the account changes of that block
(py-evm's own diff) are applied to it and it moves to the new root. Any other root — a failed
block, a dev revert, a reader at an older block — simply finds the cache not at its root and
reads the trie as usual (a new state at another root resets it).
"""

from __future__ import annotations

from typing import Any

from eth.abc import DatabaseAPI
from eth.db.account import AccountDB
from eth.db.backends.base import BaseDB
from eth.db.diff import DBDiff

__all__ = ["AccountCache", "CachingAccountDB", "caching_account_db_class"]


class AccountCache:
    """Encoded accounts (address → RLP) at the state root ``root``; one per node. Holds at
    most ``size`` accounts (then starts afresh: the busy ones come back at once)."""

    def __init__(self, size: int = 100_000) -> None:
        self.root: bytes | None = None
        self.size = size
        self.accounts: dict[bytes, bytes] = {}

    def reset(self, root: bytes) -> None:
        self.root = root
        self.accounts = {}

    def put(self, address: bytes, encoded: bytes) -> None:
        if len(self.accounts) >= self.size and address not in self.accounts:
            self.accounts = {}
        self.accounts[address] = encoded

    def advance(self, old_root: bytes, new_root: bytes, diff: DBDiff) -> None:
        """The state moved from ``old_root`` to ``new_root`` by ``diff`` (address keys)."""
        if self.root != old_root:
            self.reset(new_root)
            return
        for address in diff.deleted_keys():
            self.accounts.pop(address, None)
        for address, encoded in diff.pending_items():
            self.put(address, encoded)
        self.root = new_root


class _CacheLayer(BaseDB):
    """Stands where py-evm's per-state ``CacheDB`` stands (between the account journal and the
    trie), but reads through the node's :class:`AccountCache` while the trie is at its root."""

    def __init__(self, trie: DatabaseAPI, cache: AccountCache, owner: CachingAccountDB) -> None:
        self._db = trie
        self._cache = cache
        self._owner = owner

    def _usable(self) -> bool:
        return self._cache.root == self._owner.state_root

    def __getitem__(self, key: bytes) -> bytes:
        if self._usable():
            value = self._cache.accounts.get(key)
            if value is None:
                value = self._db[key]  # KeyError for an absent account: not cached
                self._cache.put(key, value)
            return value
        return self._db[key]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._db[key] = value  # the trie moves off the cache's root: it is advanced later

    def __delitem__(self, key: bytes) -> None:
        del self._db[key]

    def reset_cache(self) -> None:
        """Called by py-evm when the trie's root changed (a new state root was made)."""


class CachingAccountDB(AccountDB):
    """py-evm's ``AccountDB`` with :class:`_CacheLayer` instead of its own ``CacheDB``."""

    account_cache: AccountCache
    _pending_advance: tuple[bytes, DBDiff] | None = None

    def __init__(self, db: Any, state_root: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(db, state_root, *args, **kwargs)
        if self.account_cache.root != self.state_root:
            self.account_cache.reset(self.state_root)
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
            self.account_cache.advance(applied[0], root, applied[1])
        return root

    def _take_pending_advance(self) -> tuple[bytes, DBDiff] | None:
        applied, self._pending_advance = self._pending_advance, None
        return applied


def caching_account_db_class(cache: AccountCache) -> type[CachingAccountDB]:
    """A :class:`CachingAccountDB` class bound to ``cache`` (py-evm instantiates the class)."""
    return type("CachingAccountDB", (CachingAccountDB,), {"account_cache": cache})
