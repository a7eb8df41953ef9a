"""The node's py-trie helpers (voucher_chain/node/trie_speedups.py) give py-trie's own results.

py-trie's originals come from a second, untouched copy of its ``trie/utils/nibbles.py``, and
for whole tries from :func:`trie_speedups.uninstall`: the same operations must leave the same
root hash and the same nodes in the database, pruned or not.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
import trie.hexary
import trie.utils.nibbles
from hypothesis import given, settings
from hypothesis import strategies as st
from trie.exceptions import InvalidNibbles
from trie.hexary import HexaryTrie

import voucher_chain.node.chain  # noqa: F401 — installs the helpers, as every node process does
from voucher_chain.node import trie_speedups


def _original_nibbles() -> ModuleType:
    path = trie.utils.nibbles.__file__
    spec = importlib.util.spec_from_file_location("pytrie_nibbles_as_released", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ORIGINAL = _original_nibbles()

nibbles = st.lists(st.integers(0, 15), max_size=70).map(tuple)
terminated = nibbles.map(lambda n: (*n, 16))


def outcome(function: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """The value, or the error's type and message."""
    try:
        return "value", function(*args)
    except InvalidNibbles as exc:
        return "InvalidNibbles", str(exc)


def test_the_chain_module_installs_them() -> None:
    assert trie_speedups.installed()
    assert vars(trie.hexary)["bytes_to_nibbles"] is trie_speedups.bytes_to_nibbles
    assert trie.utils.nibbles.encode_nibbles is trie_speedups.encode_nibbles


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_bytes_to_nibbles_and_back(value: bytes) -> None:
    got = trie_speedups.bytes_to_nibbles(value)
    assert got == ORIGINAL.bytes_to_nibbles(value)
    assert trie_speedups.nibbles_to_bytes(got) == ORIGINAL.nibbles_to_bytes(got) == value


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-3, 300), max_size=9).map(tuple))
def test_nibbles_to_bytes_refuses_as_py_trie(values: tuple[int, ...]) -> None:
    assert outcome(trie_speedups.nibbles_to_bytes, values) == outcome(
        ORIGINAL.nibbles_to_bytes, values
    )


@pytest.mark.parametrize(
    "values",
    [(16, 0), (0, 1, 2), (255, 1), (-1, 2), (1, 300), (), (15, 15)],
    ids=["terminator", "odd", "byte", "negative", "over-a-byte", "empty", "highest"],
)
def test_nibbles_to_bytes_edges(values: tuple[int, ...]) -> None:
    assert outcome(trie_speedups.nibbles_to_bytes, values) == outcome(
        ORIGINAL.nibbles_to_bytes, values
    )


@settings(max_examples=300, deadline=None)
@given(st.one_of(nibbles, terminated))
def test_hex_prefix_and_terminators(path: tuple[int, ...]) -> None:
    for name in ("add_nibbles_terminator", "remove_nibbles_terminator", "encode_nibbles"):
        assert getattr(trie_speedups, name)(path) == getattr(ORIGINAL, name)(path), name
    encoded = ORIGINAL.encode_nibbles(path)
    assert trie_speedups.decode_nibbles(encoded) == ORIGINAL.decode_nibbles(encoded) == path


@contextmanager
def py_trie_alone() -> Iterator[None]:
    """py-trie's own functions for the duration; the node's again afterwards, either way."""
    trie_speedups.uninstall()
    try:
        yield
    finally:
        trie_speedups.install()


@settings(max_examples=300, deadline=None)
@given(nibbles, nibbles)
def test_key_prefixes(full: tuple[int, ...], partial: tuple[int, ...]) -> None:
    original = next(f for _, name, f in trie_speedups._ORIGINALS if name == "key_starts_with")
    for start in (partial, full[: len(partial)], full):  # a prefix or not, shorter or longer
        assert trie_speedups.key_starts_with(full, start) == original(full, start)


def _apply(prune: bool, operations: list[tuple[bytes, bytes]]) -> tuple[bytes, dict[bytes, bytes]]:
    db: dict[bytes, bytes] = {}
    t = HexaryTrie(db, prune=prune)
    for key, value in operations:
        if value:
            t[key] = value
        elif key in t:  # an empty value deletes
            t.delete(key)  # type: ignore[no-untyped-call]
    return t.root_hash, db


keys = st.one_of(st.binary(min_size=32, max_size=32), st.binary(min_size=1, max_size=4))
operations = st.lists(st.tuples(keys, st.binary(max_size=40)), max_size=40)


@settings(max_examples=80, deadline=None)
@given(operations, st.booleans())
def test_tries_get_py_tries_roots_and_nodes(ops: list[tuple[bytes, bytes]], prune: bool) -> None:
    ours = _apply(prune, ops)
    with py_trie_alone():
        assert not trie_speedups.installed()
        assert _apply(prune, ops) == ours


def test_another_py_trie_release_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    with py_trie_alone():
        monkeypatch.setattr(trie_speedups, "version", lambda _: "4.0.1")
        assert trie_speedups.install() is False
        assert not trie_speedups.installed()
        assert vars(trie.hexary)["bytes_to_nibbles"] is not trie_speedups.bytes_to_nibbles
        monkeypatch.undo()
    assert trie_speedups.installed()


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=4), st.binary(max_size=40), st.booleans())
def test_node_hashing_around_the_inline_limit(key: bytes, value: bytes, nested: bool) -> None:
    """A node whose encoding is under 32 bytes is kept inline, others by hash (py-trie's
    ``_create_node_to_db_mapping``, which the node's replaces with its cache)."""
    leaf = [trie_speedups.encode_nibbles((*trie_speedups.bytes_to_nibbles(key), 16)), value]
    node: list[Any] = [b""] * 16 + [b""]
    node[key[0] % 16] = leaf if nested else b""
    empty = HexaryTrie({})
    for candidate in (leaf, node):
        assert trie_speedups.node_to_db_mapping(
            empty, candidate
        ) == HexaryTrie._create_node_to_db_mapping(empty, candidate)  # type: ignore[no-untyped-call]
