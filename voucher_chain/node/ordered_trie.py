"""The root (and nodes) of a block's transaction or receipt trie, built in one pass.

A block's transactions and receipts are a Merkle-Patricia trie keyed by ``rlp(index)``. py-evm
builds it by inserting the items one at a time into a ``HexaryTrie``, re-encoding and
re-hashing the path of every insert: about a quarter of the CPU time of building a block of
simple transfers. All keys are known up front, so the trie can instead be built bottom-up from
the sorted keys, encoding and hashing each node exactly once. The result — root hash and the
``hash → node`` map py-evm persists — is the same (``tests/node/test_ordered_trie.py`` compares
both for every size up to a few hundred items, and ``verify --replay`` re-derives every block's
roots with py-evm's own code).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rlp
from eth_utils.crypto import keccak

__all__ = ["ordered_trie_root_and_nodes"]

_BLANK_NODE = b"\x80"  # rlp(b"")


def _nibbles(key: bytes) -> tuple[int, ...]:
    out: list[int] = []
    for byte in key:
        out.append(byte >> 4)
        out.append(byte & 0x0F)
    return tuple(out)


def _hex_prefix(nibbles: Sequence[int], leaf: bool) -> bytes:
    """Compact (hex-prefix) encoding of a path, with the leaf flag."""
    flag = 2 if leaf else 0
    if len(nibbles) % 2:
        head = [((flag + 1) << 4) | nibbles[0]]
        rest = nibbles[1:]
    else:
        head = [flag << 4]
        rest = nibbles
    return bytes(head + [(rest[i] << 4) | rest[i + 1] for i in range(0, len(rest), 2)])


class _Builder:
    def __init__(self) -> None:
        self.nodes: dict[bytes, bytes] = {}

    def reference(self, node: list[Any]) -> Any:
        """How a parent refers to ``node``: inline if its encoding is under 32 bytes, else
        by hash (and the node is kept)."""
        encoded = rlp.encode(node)
        if len(encoded) < 32:
            return node
        digest = keccak(encoded)
        self.nodes[digest] = encoded
        return digest

    def build(self, items: Sequence[tuple[tuple[int, ...], bytes]], depth: int) -> list[Any]:
        """The node holding ``items`` (sorted by key, all sharing their first ``depth``
        nibbles)."""
        if len(items) == 1:
            key, value = items[0]
            return [_hex_prefix(key[depth:], leaf=True), value]
        first, last = items[0][0], items[-1][0]
        shared = 0
        limit = min(len(first), len(last)) - depth
        while shared < limit and first[depth + shared] == last[depth + shared]:
            shared += 1
        if shared:
            child = self.build(items, depth + shared)
            return [_hex_prefix(first[depth : depth + shared], leaf=False), self.reference(child)]
        branch: list[Any] = [b""] * 17
        start = 0
        if len(first) == depth:  # a key ending here (never for rlp(index) keys; kept general)
            branch[16] = items[0][1]
            start = 1
        while start < len(items):
            nibble = items[start][0][depth]
            end = start
            while end < len(items) and items[end][0][depth] == nibble:
                end += 1
            branch[nibble] = self.reference(self.build(items[start:end], depth + 1))
            start = end
        return branch


def ordered_trie_root_and_nodes(items: Sequence[bytes]) -> tuple[bytes, dict[bytes, bytes]]:
    """Root hash and ``hash → encoded node`` of the trie ``{rlp(i): items[i]}`` — what py-evm's
    ``eth.db.trie.make_trie_root_and_nodes`` returns for the encoded items."""
    if not items:
        return keccak(_BLANK_NODE), {}
    keyed = sorted((_nibbles(rlp.encode(i)), bytes(item)) for i, item in enumerate(items))
    builder = _Builder()
    root = rlp.encode(builder.build(keyed, 0))
    digest = keccak(root)
    builder.nodes[digest] = root  # the root is stored by hash whatever its size
    return digest, builder.nodes
