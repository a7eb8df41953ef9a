"""The producer's account cache (accounts kept across blocks) never disagrees with the trie."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from trie.hexary import HexaryTrie

from tests.node.conftest import fail_next_block, self_transfer
from voucher_chain.node import Node, NodeConfig, ensure_dev_protocol, verify_chain


def _assert_cache_matches_head(node: Node) -> None:
    cache = node.account_cache
    head = node.head()
    assert cache.root == head.state_root
    assert cache.accounts  # the protocol's accounts, the senders, the system contracts
    with node.reading() as chain:
        trie = HexaryTrie(chain.chaindb.db, head.state_root)
        for address, encoded in cache.accounts.items():
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
        assert node.account_cache.root != node.head().state_root
        for _ in range(3):
            self_transfer(node, node.authority_key)
        _assert_cache_matches_head(node)
    report = verify_chain(tmp_path, replay=True)  # py-evm's own import path, no cache
    assert report.ok, report.problem
