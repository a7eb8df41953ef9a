"""The one-pass transaction/receipt trie gives py-evm's root and nodes exactly."""

from __future__ import annotations

import random

import pytest
from eth.db.trie import make_trie_root_and_nodes

from voucher_chain.node.ordered_trie import ordered_trie_root_and_nodes

# rlp(index) keys change length at 128 and 256 (one, two, three bytes); short items make nodes
# under 32 bytes, which a parent embeds instead of hashing
SIZES = [*range(0, 20), 31, 32, 33, 127, 128, 129, 200, 255, 256, 257, 300]


class _Item:
    def __init__(self, encoded: bytes) -> None:
        self._encoded = encoded

    def encode(self) -> bytes:
        return self._encoded


@pytest.mark.parametrize("size", SIZES)
def test_same_root_and_nodes_as_py_evm(size: int) -> None:
    rng = random.Random(size)
    items = [rng.randbytes(rng.choice([1, 3, 20, 31, 32, 33, 120])) for _ in range(size)]
    expected = make_trie_root_and_nodes([_Item(i) for i in items])  # type: ignore[arg-type]
    assert ordered_trie_root_and_nodes(items) == expected
