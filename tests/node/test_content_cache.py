"""The node's shared caches — content-addressed values and the head pointer (store.py), JUMPDEST
analyses (chain.py) — never answer what SQLite or a fresh analysis would not."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from eth.vm.code_stream import CodeStream
from eth_utils.crypto import keccak

from tests.node.conftest import fail_next_block, self_transfer
from voucher_chain.node import Node, NodeConfig, ensure_dev_protocol, verify_chain
from voucher_chain.node.chain import jump_analysis
from voucher_chain.node.store import HEAD_KEY, Store

NODE_BYTES = b"\xc2\x01\x02 a trie node, say"


def test_only_committed_content_addressed_values_are_published(tmp_path: Path) -> None:
    writer = Store(tmp_path / "chain.sqlite")
    reader = Store(writer.path, reader=True, cache=writer.cache)
    key = keccak(NODE_BYTES)

    writer.db[key] = NODE_BYTES
    writer.rollback()  # a failed block: nothing of it reaches the cache, nor SQLite
    assert writer.cache.get(key) is None
    with pytest.raises(KeyError):
        reader.db[key]

    writer.db[key] = NODE_BYTES
    assert writer.cache.get(key) is None  # not before the commit
    writer.commit()
    assert writer.cache.get(key) == NODE_BYTES
    assert reader.db[key] == NODE_BYTES

    # a 32-byte key that is not its value's hash is never cached
    other = b"\x07" * 32
    writer.db[other] = b"not content-addressed"
    writer.commit()
    assert writer.cache.get(other) is None
    assert reader.db[other] == b"not content-addressed"

    # a delete takes the value out at once for the writer, for readers at the commit
    del writer.db[key]
    with pytest.raises(KeyError):
        writer.db[key]
    writer.commit()
    with pytest.raises(KeyError):
        reader.db[key]
    reader.close()
    writer.close()


def test_the_writers_kv_writes_reach_sqlite_together_at_the_commit(tmp_path: Path) -> None:
    """Written in one ``executemany`` at the commit; until then only the writer sees them."""
    writer = Store(tmp_path / "chain.sqlite")
    other = sqlite3.connect(writer.path)

    def in_sqlite(key: bytes) -> bytes | None:
        row = other.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    kept, dropped, short = keccak(NODE_BYTES), b"\x05" * 32, b"meta-like key"
    writer.db[kept] = NODE_BYTES
    writer.db[dropped] = b"written, then deleted in the same block"
    writer.db[short] = b"1"
    del writer.db[dropped]
    with pytest.raises(KeyError):
        del writer.db[dropped]  # deleting what is not there fails, as py-evm expects
    assert writer.db[kept] == NODE_BYTES and writer.db[short] == b"1"
    assert dropped not in writer.db and kept in writer.db
    assert writer._kv.pending and in_sqlite(kept) is None  # nothing in SQLite yet
    writer.commit()
    assert not writer._kv.pending
    assert (in_sqlite(kept), in_sqlite(dropped), in_sqlite(short)) == (NODE_BYTES, None, b"1")

    del writer.db[short]  # a committed key deleted, then the block fails: still there
    writer.rollback()
    assert writer.db[short] == b"1" and in_sqlite(short) == b"1"
    del writer.db[short]
    writer.commit()
    assert in_sqlite(short) is None and short not in writer.db
    other.close()
    writer.close()


def test_the_writer_asks_sqlite_once_for_keys_the_content_cache_does_not_hold(
    tmp_path: Path,
) -> None:
    """Head, score and lookup keys: what the writer committed or read once, it knows; a
    rolled-back write is forgotten."""
    writer = Store(tmp_path / "chain.sqlite")
    statements: list[str] = []
    writer._conn.set_trace_callback(statements.append)
    score, missing = b"block-hash-to-score:" + b"\x01" * 32, b"no-such-key"
    writer.db[score] = b"\x05"
    writer.commit()
    statements.clear()
    assert writer.db[score] == b"\x05" and score in writer.db
    for _ in range(2):
        with pytest.raises(KeyError):
            writer.db[missing]
    assert missing not in writer.db
    assert [s for s in statements if s.startswith("SELECT")] == [
        "SELECT v FROM kv WHERE k = x'6e6f2d737563682d6b6579'"  # the missing key, once
    ]
    writer.db[score] = b"\x06"
    writer.db[missing] = b"now here"
    writer.rollback()
    assert writer.db[score] == b"\x05"
    with pytest.raises(KeyError):
        writer.db[missing]
    writer.db[missing] = b"now here"
    writer.commit()
    reader = Store(writer.path, reader=True)  # another connection: what SQLite holds
    assert (reader.db[score], reader.db[missing]) == (b"\x05", b"now here")
    assert writer.db[missing] == b"now here"
    reader.close()
    writer.close()


def test_readers_take_the_head_pointer_from_the_last_commit_only(tmp_path: Path) -> None:
    writer = Store(tmp_path / "chain.sqlite")
    reader = Store(writer.path, reader=True, cache=writer.cache)
    writer.db[HEAD_KEY] = b"\x01" * 32
    writer.commit()
    assert reader.db[HEAD_KEY] == b"\x01" * 32

    writer.db[HEAD_KEY] = b"\x02" * 32
    assert writer.db[HEAD_KEY] == b"\x02" * 32  # the writer sees its own uncommitted write
    assert reader.db[HEAD_KEY] == b"\x01" * 32  # readers: the last commit
    writer.rollback()
    assert reader.db[HEAD_KEY] == b"\x01" * 32
    assert writer.db[HEAD_KEY] == b"\x01" * 32
    reader.close()
    writer.close()


def test_a_node_on_the_caches_builds_the_chain_py_evm_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False, automine=True)
    with Node(config) as node:
        ensure_dev_protocol(node)
        assert len(node._store.cache) > 100  # the protocol's trie nodes and code

        failures = fail_next_block(monkeypatch)
        doomed = self_transfer(node, node.authority_key)
        assert failures and doomed in node.dropped
        for _ in range(3):
            self_transfer(node, node.authority_key)
        head = node.head()
        with node.reading() as chain:  # a reader, through the cache, agrees with the producer
            assert chain.get_canonical_head() == head
    report = verify_chain(tmp_path, replay=True)  # py-evm's own import path, fresh caches
    assert report.ok, report.problem


def test_a_shared_jump_analysis_answers_as_a_fresh_one() -> None:
    # PUSH1 0x5b | JUMPDEST | PUSH2 0x5b5b | JUMPDEST: positions 1, 4, 5 are PUSH data
    code = bytes.fromhex("605b5b615b5b5b")
    shared = CodeStream(code)
    shared.valid_positions, shared.invalid_positions = jump_analysis(code)
    fresh = CodeStream(code)
    answers = [fresh.is_valid_opcode(i) for i in range(len(code) + 1)]
    assert answers == [True, False, True, True, False, False, True, False]
    assert [shared.is_valid_opcode(i) for i in range(len(code) + 1)] == answers

    again = CodeStream(code)  # another frame of the same code: the memo is already there
    again.valid_positions, again.invalid_positions = jump_analysis(code)
    assert again.valid_positions == {0, 2, 3, 6}
    assert [again.is_valid_opcode(i) for i in range(len(code) + 1)] == answers
    other = bytes.fromhex("5b5b")  # other code, its own analysis
    assert jump_analysis(other) is not jump_analysis(code)


def test_the_node_process_hashes_with_the_c_keccak() -> None:
    probe = (
        "import voucher_chain.node.cli\n"
        "from eth_hash.auto import keccak\n"
        "keccak(b'')\n"
        "print(type(keccak.hasher.__self__).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "PySha3Backend"
