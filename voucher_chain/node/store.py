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
from typing import Any

from eth.db.atomic import AtomicDB
from eth.db.backends.base import BaseDB

__all__ = ["LogRow", "SqliteDB", "Store"]

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


class SqliteDB(BaseDB):
    """py-evm's key-value interface over the ``kv`` table (writes join the open transaction).

    A reader's writes (py-evm stages trie nodes while executing a call) stay in ``overlay``, in
    memory, and never take SQLite's write lock away from the producer.
    """

    def __init__(self, conn: sqlite3.Connection, *, overlay: dict[bytes, bytes] | None = None):
        self._conn = conn
        self.overlay = overlay

    def __getitem__(self, key: bytes) -> bytes:
        if self.overlay is not None and key in self.overlay:
            return self.overlay[key]
        row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return bytes(row[0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        if self.overlay is not None:
            self.overlay[key] = value
            return
        self._conn.execute("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", (key, value))

    def _exists(self, key: bytes) -> bool:
        if self.overlay is not None and key in self.overlay:
            return True
        return self._conn.execute("SELECT 1 FROM kv WHERE k = ?", (key,)).fetchone() is not None

    def __delitem__(self, key: bytes) -> None:
        if self.overlay is not None:
            self.overlay.pop(key, None)
            return
        if self._conn.execute("DELETE FROM kv WHERE k = ?", (key,)).rowcount == 0:
            raise KeyError(key)


class Store:
    """The SQLite file of one node. Not thread-safe: the node serialises access."""

    def __init__(self, path: Path, *, synchronous: str = "FULL", reader: bool = False) -> None:
        """``reader``: a connection of a thread that only reads (the writer made the schema)."""
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level="DEFERRED")
        if not reader:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
            self._conn.executescript(_SCHEMA)
            self._conn.commit()
        self._kv = SqliteDB(self._conn, overlay={} if reader else None)
        self.db = AtomicDB(self._kv)

    def commit(self) -> None:
        """Makes everything written since the last commit durable, atomically."""
        self._conn.commit()

    def rollback(self) -> None:
        """Drops everything written since the last commit."""
        self._conn.rollback()
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
