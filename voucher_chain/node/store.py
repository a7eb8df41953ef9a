"""The node's one SQLite file: py-evm's key-value store plus the node's own indexes.

Everything a block adds — py-evm's trie nodes, headers and canonical pointers, the node's
transaction/receipt index, its log index and the block's seal — is written inside one SQLite
transaction and committed once the block is complete (:meth:`Store.commit`), *before* anyone is
told about it. A crash (even ``kill -9``) therefore loses at most a block nobody saw; WAL mode
lets readers run while the producer writes.

Tables::

    kv(k, v)                      py-evm's database (``SqliteDB``, under ``AtomicDB``)
    txs(hash, block, idx, tx, receipt)   JSON-RPC views of each transaction and its receipt
    logs(block, log_index, address, topic0..3, tx_hash, json)   for eth_getLogs
    seals(number, hash, signature)       the authority's signature of each block hash
    meta(key, value)                     chain id, authority, genesis hash, contract addresses
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from eth.db.atomic import AtomicDB
from eth.db.backends.base import BaseDB
from eth.db.schema import SchemaV1
from eth_hash.auto import keccak

__all__ = ["HEAD_KEY", "ContentCache", "LogRow", "SqliteDB", "Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS txs (
    hash BLOB PRIMARY KEY, block INTEGER NOT NULL, idx INTEGER NOT NULL,
    tx TEXT NOT NULL, receipt TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, address BLOB NOT NULL,
    topic0 BLOB, topic1 BLOB, topic2 BLOB, topic3 BLOB, json TEXT NOT NULL,
    PRIMARY KEY (block, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS logs_address ON logs (address, block);
CREATE INDEX IF NOT EXISTS logs_topic0 ON logs (topic0, block);
CREATE TABLE IF NOT EXISTS seals (
    number INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, signature BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

#: A log row for the index: block, log index in block, address, topics, JSON-RPC view.
LogRow = tuple[int, int, bytes, Sequence[bytes], dict[str, Any]]


#: py-evm's pointer to the canonical head's hash: read on nearly every request.
HEAD_KEY = SchemaV1.make_canonical_head_hash_lookup_key()
_UNKNOWN = object()


class ContentCache:
    """What the node's connections read most, kept in memory for all of them (the producer and
    every reader): values whose key is their own keccak hash — trie nodes, code, headers — and,
    for readers, the committed canonical head pointer.

    Exact by construction: a content-addressed value is the same at every block and in every
    SQLite snapshot, so no block, revert or reader's position can make an entry wrong; a value
    is admitted only after its hash is checked. The producer's writes are published when its
    transaction commits, never before (a rolled-back block leaves nothing here); a reader that
    takes the head pointer from here sees the last commit, as a fresh SQLite read would.

    Why it matters more than the lookup's own cost: every SQLite call releases the GIL, and
    under load getting it back waits for the interpreter's switch interval (5 ms): a block's
    worth of trie reads took seconds (docs/benchmarks.md). At ``size`` entries (~360 bytes each
    for a 200-byte trie node: ~70 MB at the default) it starts afresh. Thread-safe under the
    GIL: single dict operations only.
    """

    def __init__(self, size: int = 200_000) -> None:
        self.size = size
        self._items: dict[bytes, bytes] = {}
        self.head: bytes | None = None

    def get(self, key: bytes) -> bytes | None:
        return self._items.get(key)

    def offer(self, key: bytes, value: bytes) -> None:
        if len(key) == 32 and keccak(value) == key:
            if len(self._items) >= self.size:
                self._items = {}
            self._items[key] = value

    def discard(self, key: bytes) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


class SqliteDB(BaseDB):
    """py-evm's key-value interface over the ``kv`` table (writes join the open transaction),
    reading through the node's :class:`ContentCache`.

    A reader's writes (py-evm stages trie nodes while executing a call) stay in ``overlay``, in
    memory, and never take SQLite's write lock away from the producer. The producer's writes
    wait in ``pending`` (what it reads first) until :meth:`flush` writes them all at once into
    its open transaction, just before the commit — one ``executemany`` instead of a statement
    per trie node — and reach the caches at :meth:`publish` (after the commit), never if
    :meth:`unpublish` (a rollback) comes first.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        overlay: dict[bytes, bytes] | None = None,
        cache: ContentCache | None = None,
    ):
        self._conn = conn
        self.overlay = overlay
        self.cache = cache if cache is not None else ContentCache()
        #: the producer's writes since its last commit (None: deleted), not yet in SQLite
        self.pending: dict[bytes, bytes | None] = {}
        self._flushed: dict[bytes, bytes | None] = {}
        #: the producer's: committed values (None: absent) of the keys the content cache does
        #: not hold — head, score and lookup keys — as it last read or wrote them. Exact: the
        #: producer is the file's only writer. Each SQLite call releases the GIL, and under
        #: load taking it back waits out the switch interval (ContentCache, above).
        self._committed: dict[bytes, bytes | None] = {}

    def __getitem__(self, key: bytes) -> bytes:
        if self.overlay is not None:
            if key in self.overlay:
                return self.overlay[key]
        else:
            found = self._known(key)
            if found is None:
                raise KeyError(key)
            if found is not _UNKNOWN:
                return cast(bytes, found)
        if key == HEAD_KEY and self.cache.head is not None:  # the last commit's, as in SQLite
            return self.cache.head
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        value = None if row is None else bytes(row[0])
        if self.overlay is None and len(key) != 32:
            self._remember(key, value)
        if value is None:
            raise KeyError(key)
        self.cache.offer(key, value)
        return value

    def _known(self, key: bytes) -> object:
        """The producer's value of ``key`` without SQLite: written since the last commit, or
        committed and remembered; ``None`` when absent; ``_UNKNOWN`` when it must ask."""
        if key in self.pending:
            return self.pending[key]
        return self._committed.get(key, _UNKNOWN)

    def _remember(self, key: bytes, value: bytes | None) -> None:
        if len(self._committed) >= 20_000:
            self._committed = {}
        self._committed[key] = value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        if self.overlay is not None:
            self.overlay[key] = value
            return
        self.pending[key] = value

    def _exists(self, key: bytes) -> bool:
        if self.overlay is not None:
            if key in self.overlay:
                return True
        else:
            found = self._known(key)
            if found is not _UNKNOWN:
                return found is not None
        if self.cache.get(key) is not None:
            return True
        return self._conn.execute("SELECT 1 FROM kv WHERE k = ?", (key,)).fetchone() is not None

    def __delitem__(self, key: bytes) -> None:
        if self.overlay is not None:
            self.overlay.pop(key, None)
            return
        if not self._exists(key):
            raise KeyError(key)
        self.pending[key] = None
        self.cache.discard(key)  # at once for this connection, again at publish for readers

    def flush(self) -> None:
        """Writes the pending writes into the open transaction (the producer, before commit)."""
        if not self.pending:
            return
        items = self.pending.items()
        self._conn.executemany(
            "INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)",
            [(k, v) for k, v in items if v is not None],
        )
        gone = [(k,) for k, v in items if v is None]
        if gone:
            self._conn.executemany("DELETE FROM kv WHERE k = ?", gone)
        self._flushed, self.pending = self.pending, {}

    def publish(self) -> None:
        """The writes of the transaction just committed become visible through the cache."""
        for key, value in self._flushed.items():
            if key == HEAD_KEY:
                self.cache.head = value
            if len(key) != 32:
                self._remember(key, value)
            elif value is None:
                self.cache.discard(key)
            else:
                self.cache.offer(key, value)
        self._flushed = {}

    def unpublish(self) -> None:
        """The transaction was rolled back: its writes never reach SQLite or the cache."""
        self.pending = {}
        self._flushed = {}


class Store:
    """The SQLite file of one node. Not thread-safe: the node serialises access."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "FULL",
        reader: bool = False,
        cache: ContentCache | None = None,
    ) -> None:
        """``reader``: a connection of a thread that only reads (the writer made the schema);
        ``cache``: the node's :class:`ContentCache`, shared by its connections (a new one if
        not given)."""
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level="DEFERRED")
        if not reader:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
            self._conn.executescript(_SCHEMA)
            self._conn.commit()
        self._kv = SqliteDB(self._conn, overlay={} if reader else None, cache=cache)
        self.db = AtomicDB(self._kv)

    @property
    def cache(self) -> ContentCache:
        return self._kv.cache

    def commit(self) -> None:
        """Makes everything written since the last commit durable, atomically."""
        self._kv.flush()
        self._conn.commit()
        self._kv.publish()

    def rollback(self) -> None:
        """Drops everything written since the last commit."""
        self._conn.rollback()
        self._kv.unpublish()
        if self._kv.overlay:
            self._kv.overlay.clear()

    def close(self) -> None:
        self._conn.rollback()
        self._conn.close()

    # -- meta -------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
        )

    # -- transactions and receipts ----------------------------------------------------------------

    def add_transactions(
        self, block: int, rows: Iterable[tuple[bytes, int, dict[str, Any], dict[str, Any]]]
    ) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO txs (hash, block, idx, tx, receipt) VALUES (?, ?, ?, ?, ?)",
            [(h, block, i, json.dumps(tx), json.dumps(rc)) for h, i, tx, rc in rows],
        )

    def transaction(self, tx_hash: bytes) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT tx FROM txs WHERE hash = ?", (tx_hash,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def receipt(self, tx_hash: bytes) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT receipt FROM txs WHERE hash = ?", (tx_hash,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def block_transactions(self, block: int) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT tx FROM txs WHERE block = ? ORDER BY idx", (block,))
        return [dict(json.loads(r[0])) for r in rows]

    # -- logs -------------------------------------------------------------------------------------

    def add_logs(self, rows: Iterable[LogRow]) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO logs (block, log_index, address, topic0, topic1, topic2, "
            "topic3, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(b, i, a, *(list(t) + [None] * 4)[:4], json.dumps(j)) for b, i, a, t, j in rows],
        )

    def logs(
        self,
        from_block: int,
        to_block: int,
        addresses: Sequence[bytes],
        topics: Sequence[Sequence[bytes] | None],
        *,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Logs in ``[from_block, to_block]`` matching ``addresses`` (any, if empty) and, per
        position, one of ``topics[i]`` (any, if ``None``), in chain order; at most ``limit``."""
        where = ["block BETWEEN ? AND ?"]
        args: list[Any] = [from_block, to_block]
        if addresses:
            where.append(f"address IN ({','.join('?' * len(addresses))})")
            args.extend(addresses)
        for position, options in enumerate(topics[:4]):
            if options:
                where.append(f"topic{position} IN ({','.join('?' * len(options))})")
                args.extend(options)
        sql = f"SELECT json FROM logs WHERE {' AND '.join(where)} ORDER BY block, log_index LIMIT ?"
        rows = self._conn.execute(sql, [*args, limit + 1]).fetchall()
        return [dict(json.loads(r[0])) for r in rows]

    def drop_blocks_after(self, number: int) -> None:
        """Removes the node's index rows and seals of blocks above ``number`` (dev revert)."""
        for table, column in (("txs", "block"), ("logs", "block"), ("seals", "number")):
            self._conn.execute(f"DELETE FROM {table} WHERE {column} > ?", (number,))

    # -- seals ------------------------------------------------------------------------------------

    def add_seal(self, number: int, block_hash: bytes, signature: bytes) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO seals (number, hash, signature) VALUES (?, ?, ?)",
            (number, block_hash, signature),
        )

    def seal(self, number: int) -> tuple[bytes, bytes] | None:
        row = self._conn.execute(
            "SELECT hash, signature FROM seals WHERE number = ?", (number,)
        ).fetchone()
        return None if row is None else (bytes(row[0]), bytes(row[1]))

    def seals(self) -> Iterator[tuple[int, bytes, bytes]]:
        for number, block_hash, signature in self._conn.execute(
            "SELECT number, hash, signature FROM seals ORDER BY number"
        ):
            yield int(number), bytes(block_hash), bytes(signature)
