"""The producer's account cache (accounts kept across blocks) never disagrees with the trie."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth.db.backends.memory import MemoryDB
from eth_utils.crypto import keccak
from trie.hexary import HexaryTrie

from tests.node.conftest import fail_next_block, self_transfer
from voucher_chain.node import Node, NodeConfig, ensure_dev_protocol, verify_chain
from voucher_chain.node.account_cache import AccountCache, SlotCache, _TrieNodeBatch


def _assert_cache_matches_head(node: Node) -> None:
    cache = node.account_cache
    head = node.head()
    accounts = cache.known(head.state_root)
    assert accounts  # the protocol's accounts, the senders, the system contracts
    for root, known in (cache.latest, cache.previous):  # both generations: exact at their root
        with node.reading() as chain:
            trie = HexaryTrie(chain.chaindb.db, root)
            for address, encoded in known.items():
                assert trie.get(keccak(address)) == encoded


def test_cache_follows_blocks_and_survives_a_failed_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False, automine=True)
    with Node(config) as node:
        ensure_dev_protocol(node)  # dozens of blocks: deployments, storage writes
        _assert_cache_matches_head(node)

        # a block that fails after its state root was made (the cache moved to that root),
        # then is rolled back: the next block must not build on the cache's wrong root
        failures = fail_next_block(monkeypatch)
        doomed = self_transfer(node, node.authority_key)
        assert failures and doomed in node.dropped
        assert node.account_cache.latest[0] != node.head().state_root
        for _ in range(3):
            self_transfer(node, node.authority_key)
        _assert_cache_matches_head(node)
    report = verify_chain(tmp_path, replay=True)  # py-evm's own import path, no cache
    assert report.ok, report.problem


#: SSTORE(0, SLOAD(0) + 1), then RETURN the new value: each transaction counts, each call
#: answers "the count at this block, plus one"
COUNTER = bytes.fromhex("5f546001018060005560005260205ff3")


def test_slot_cache_moves_with_the_storage_and_serves_every_block(tmp_path: Path) -> None:
    from eth_account import Account
    from web3 import Web3

    from scripts.bench_evm import deploy_runtime
    from voucher_chain.node import signing_web3

    config = NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False, automine=True)
    with Node(config) as node:
        w3 = signing_web3(node)
        counter = Web3.to_checksum_address(deploy_runtime(w3, COUNTER))
        address = bytes.fromhex(counter[2:])
        sender = Account.from_key(node.authority_key).address
        blocks = []
        for _ in range(4):
            w3.eth.wait_for_transaction_receipt(
                w3.eth.send_transaction({"to": counter, "from": sender})
            )
            blocks.append(node.head().block_number)
            # the producer carried the account's values over to the new storage root
            root, values = node.slot_cache.accounts[address]
            with node.reading() as chain:
                account_db: Any = chain.get_vm(node.head()).state._account_db  # type: ignore[attr-defined]
                assert root == account_db._get_storage_root(address)
                trie = HexaryTrie(chain.chaindb.db, root)
                assert values and all(trie.get(k) == v for k, v in values.items())

        def count_at(block: int) -> int:
            return int.from_bytes(w3.eth.call({"to": counter}, block), "big") - 1

        # readers at any block, in an order that switches the cached root back and forth
        for block in [blocks[-1], blocks[0], blocks[-1], blocks[1], blocks[2], blocks[0]] * 2:
            assert count_at(block) == blocks.index(block) + 1
    report = verify_chain(tmp_path, replay=True)
    assert report.ok, report.problem


def test_slot_cache_keeps_the_previous_root_for_readers_a_block_behind() -> None:
    slots = SlotCache()
    a, r1, r2, r3 = b"A" * 20, b"1" * 32, b"2" * 32, b"3" * 32
    slots.at(a, r1)[b"k"] = b"v"
    slots.advance(a, r1, r2, {b"k2": b"w"})  # the producer commits the next block
    assert slots.at(a, r2) == {b"k": b"v", b"k2": b"w"}
    assert slots.at(a, r1) == {b"k": b"v"}  # a reader at the block before keeps its values
    slots.at(a, r3)[b"x"] = b"y"  # a third root displaces the oldest, not the newest
    assert slots.at(a, r2) == {b"k": b"v", b"k2": b"w"}
    assert slots.at(a, r1) == {}  # now the newest entry, r3 the one before
    slots.advance(a, b"9" * 32, r2, {b"z": b"z"})  # from a root nobody knows: nothing carried
    assert slots.at(a, r3) == {b"x": b"y"}
    assert slots.at(a, r1) == {}


def test_a_workers_slot_cache_follows_the_producers_advances() -> None:
    producer, worker = SlotCache(log_size=2), SlotCache(log_size=0)
    a, b, r1, r2, r3 = b"A" * 20, b"B" * 20, b"1" * 32, b"2" * 32, b"3" * 32
    worker.at(a, r1)[b"k"] = b"v"  # the worker read A at block 1
    producer.advance(a, r1, r2, {b"k2": b"w"})
    advances, seen = producer.log.since(0)
    assert seen == 1 == producer.log.logged and len(advances) == 1
    worker.replay(advances)
    assert worker.at(a, r2) == {b"k": b"v", b"k2": b"w"}  # no trie read for block 2
    assert worker.log.logged == 0  # a worker keeps no log of its own
    producer.advance(a, r2, r3, {b"k": b"u"})
    producer.advance(b, r1, r2, {})
    producer.advance(b, r2, r3, {})
    advances, seen = producer.log.since(1)
    assert seen == 4 and [x[0] for x in advances] == [b, b]  # only the last 2 are kept
    worker.replay(advances)  # the missed advance of A: A's entry stays at r2, exact
    assert worker.at(a, r2) == {b"k": b"v", b"k2": b"w"}
    assert worker.at(a, r3) == {}


def test_account_cache_keeps_two_roots_and_follows_the_producer() -> None:
    producer, worker = AccountCache(log_size=10), AccountCache()
    a, b, r1, r2, r3 = b"A" * 20, b"B" * 20, b"1" * 32, b"2" * 32, b"3" * 32
    producer.put(producer.at(r1), a, b"acct-a")
    producer.put(producer.at(r1), b, b"acct-b")
    worker.put(worker.at(r1), a, b"acct-a")  # the worker read A at block 1
    producer.advance(r1, r2, {a: b"acct-a2", b: None})  # A changed, B deleted
    assert producer.at(r2) == {a: b"acct-a2"}
    assert producer.at(r1) == {a: b"acct-a", b: b"acct-b"}  # a reader a block behind
    advances, seen = producer.log.since(0)
    assert seen == 1
    worker.replay(advances)
    assert worker.known(r2) == {a: b"acct-a2"}
    assert worker.known(r3) is None
    producer.at(r3)  # a third root: the oldest goes
    assert producer.known(r1) is None and producer.known(r2) == {a: b"acct-a2"}
    assert worker.log.since(0) == ([], 0)  # a worker keeps no log of its own


class _CountingDB(MemoryDB):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[bytes] = []

    def __getitem__(self, key: bytes) -> bytes:
        self.reads.append(key)
        return super().__getitem__(key)


def test_the_account_trie_batch_pops_without_reading_the_database() -> None:
    """A pop drops only the batch's own write; reads of the database's nodes still go through."""
    db = _CountingDB()
    db[b"stored"] = b"in the database"
    batch = _TrieNodeBatch(db)
    batch[b"staged"] = b"written in this batch"
    assert batch.pop(b"never seen", None) is None  # created and replaced in a scratch copy
    assert batch.pop(b"stored", None) is None  # the database's node is not the batch's
    assert db.reads == []
    assert batch[b"stored"] == b"in the database"  # read through, as before the pop
    assert batch.pop(b"staged", None) == b"written in this batch"
    with pytest.raises(KeyError):
        batch[b"staged"]  # not in the database: gone
    with pytest.raises(KeyError):
        batch.pop(b"never seen")  # no default: a missing node is an error, as in the base
    batch[b"kept"] = b"1"
    batch.commit_to(db, apply_deletes=False)
    assert db[b"kept"] == b"1" and b"staged" not in db and db[b"stored"] == b"in the database"


def test_the_node_builds_its_state_roots_over_the_batch(tmp_path: Path) -> None:
    config = NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False, automine=True)
    with Node(config) as node:
        ensure_dev_protocol(node)  # every block's state root made over _TrieNodeBatch
        with node.reading() as chain:
            state: Any = chain.get_vm(node.head()).state
            account_db = state._account_db
            assert isinstance(account_db._batchtrie, _TrieNodeBatch)
    report = verify_chain(tmp_path, replay=True)  # py-evm's own account database agrees
    assert report.ok, report.problem
