"""The node's py-trie and pyrlp helpers (voucher_chain/node/speedups.py) give their results.

py-trie's originals come from a second, untouched copy of its ``trie/utils/nibbles.py``, and
for whole tries from :func:`speedups.uninstall`: the same operations must leave the same
root hash and the same nodes in the database, pruned or not. pyrlp's ``copy`` is compared
with its own on py-evm's accounts, headers and receipts.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
import rlp
import trie.hexary
import trie.utils.nibbles
from eth.rlp.accounts import Account
from eth.rlp.headers import BlockHeader
from eth.rlp.logs import Log
from eth.rlp.receipts import Receipt
from eth.vm.forks.prague.blocks import PragueBlockHeader
from eth.vm.forks.prague.transactions import PragueTransactionBuilder
from eth_account import Account as EthAccount
from eth_typing import Address, BlockNumber
from hypothesis import given, settings
from hypothesis import strategies as st
from trie.exceptions import InvalidNibbles
from trie.hexary import HexaryTrie

import voucher_chain.node.chain  # noqa: F401 — installs the helpers, as every node process does
from voucher_chain.node import speedups
from voucher_chain.node.chain import genesis_params


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


def outcome(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """The value (a pyrlp object as its type, fields and encoding), or the error's type and
    message."""
    try:
        made = function(*args, **kwargs)
    except (InvalidNibbles, TypeError, rlp.exceptions.DeserializationError) as exc:
        return type(exc).__name__, str(exc)
    if isinstance(made, rlp.Serializable):
        return type(made).__name__, (tuple(made), rlp.encode(made))
    return "value", made


def test_the_chain_module_installs_them() -> None:
    assert speedups.installed()
    assert vars(trie.hexary)["bytes_to_nibbles"] is speedups.bytes_to_nibbles
    assert trie.utils.nibbles.encode_nibbles is speedups.encode_nibbles


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_bytes_to_nibbles_and_back(value: bytes) -> None:
    got = speedups.bytes_to_nibbles(value)
    assert got == ORIGINAL.bytes_to_nibbles(value)
    assert speedups.nibbles_to_bytes(got) == ORIGINAL.nibbles_to_bytes(got) == value


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-3, 300), max_size=9).map(tuple))
def test_nibbles_to_bytes_refuses_as_py_trie(values: tuple[int, ...]) -> None:
    assert outcome(speedups.nibbles_to_bytes, values) == outcome(ORIGINAL.nibbles_to_bytes, values)


@pytest.mark.parametrize(
    "values",
    [(16, 0), (0, 1, 2), (255, 1), (-1, 2), (1, 300), (), (15, 15)],
    ids=["terminator", "odd", "byte", "negative", "over-a-byte", "empty", "highest"],
)
def test_nibbles_to_bytes_edges(values: tuple[int, ...]) -> None:
    assert outcome(speedups.nibbles_to_bytes, values) == outcome(ORIGINAL.nibbles_to_bytes, values)


@settings(max_examples=300, deadline=None)
@given(st.one_of(nibbles, terminated))
def test_hex_prefix_and_terminators(path: tuple[int, ...]) -> None:
    for name in ("add_nibbles_terminator", "remove_nibbles_terminator", "encode_nibbles"):
        assert getattr(speedups, name)(path) == getattr(ORIGINAL, name)(path), name
    encoded = ORIGINAL.encode_nibbles(path)
    assert speedups.decode_nibbles(encoded) == ORIGINAL.decode_nibbles(encoded) == path


@contextmanager
def py_trie_alone() -> Iterator[None]:
    """py-trie's own functions for the duration; the node's again afterwards, either way."""
    speedups.uninstall()
    try:
        yield
    finally:
        speedups.install()


@settings(max_examples=300, deadline=None)
@given(nibbles, nibbles)
def test_key_prefixes(full: tuple[int, ...], partial: tuple[int, ...]) -> None:
    original = next(o for _, name, _, o in speedups._REPLACED if name == "key_starts_with")
    for start in (partial, full[: len(partial)], full):  # a prefix or not, shorter or longer
        assert speedups.key_starts_with(full, start) == original(full, start)


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
        assert not speedups.installed()
        assert _apply(prune, ops) == ours


def test_another_py_trie_release_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    with py_trie_alone():
        monkeypatch.setattr(speedups, "version", lambda package: "0.0.1")
        assert speedups.install() is False
        assert not speedups.installed()
        assert vars(trie.hexary)["bytes_to_nibbles"] is not speedups.bytes_to_nibbles
        monkeypatch.undo()
    assert speedups.installed()


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=4), st.binary(max_size=40), st.booleans())
def test_node_hashing_around_the_inline_limit(key: bytes, value: bytes, nested: bool) -> None:
    """A node whose encoding is under 32 bytes is kept inline, others by hash (py-trie's
    ``_create_node_to_db_mapping``, which the node's replaces with its cache)."""
    leaf = [speedups.encode_nibbles((*speedups.bytes_to_nibbles(key), 16)), value]
    node: list[Any] = [b""] * 16 + [b""]
    node[key[0] % 16] = leaf if nested else b""
    empty = HexaryTrie({})
    for candidate in (leaf, node):
        assert speedups.node_to_db_mapping(
            empty, candidate
        ) == HexaryTrie._create_node_to_db_mapping(empty, candidate)  # type: ignore[no-untyped-call]


accounts = st.builds(
    Account,
    nonce=st.integers(0, 2**64 - 1),
    balance=st.integers(0, 2**256 - 1),
    storage_root=st.binary(min_size=32, max_size=32),
    code_hash=st.binary(min_size=32, max_size=32),
)


def _copies(obj: Any, *args: Any, **changes: Any) -> tuple[Any, Any]:
    ours = outcome(speedups.serializable_copy, obj, *args, **changes)
    theirs = outcome(speedups._ORIGINAL_COPY, obj, *args, **changes)
    return ours, theirs


@settings(max_examples=200, deadline=None)
@given(accounts, st.integers(0, 2**64 - 1), st.sampled_from(["nonce", "balance", "none"]))
def test_account_copies(account: Account, value: int, field: str) -> None:
    changes = {} if field == "none" else {field: value}
    ours, theirs = _copies(account, **changes)
    assert ours == theirs
    assert speedups.serializable_copy(account, **changes) == account.copy(**changes)


def test_header_and_receipt_copies_and_refusals() -> None:
    assert speedups.installed()  # so ``copy`` below is the node's
    header = BlockHeader(difficulty=1, block_number=2, gas_limit=3_000_000, extra_data=b"x")
    receipt = Receipt(
        state_root=b"\x01", gas_used=5, bloom=0, logs=[Log(b"\x00" * 20, (1, 2), b"d")]
    )
    cases: list[tuple[Any, dict[str, Any]]] = [
        (header, {"timestamp": 7, "gas_used": 21_000}),
        (header, {}),
        (receipt, {"gas_used": 6}),
        (receipt, {"logs": [Log(b"\x01" * 20, (), b"")]}),  # a list: made a tuple, as before
    ]
    for obj, changes in cases:
        ours, theirs = _copies(obj, **changes)
        assert ours == theirs
        assert ours[0] == type(obj).__name__
        assert obj.copy(**changes) == speedups._ORIGINAL_COPY(obj, **changes)
    # what only pyrlp's own checks: positional fields, a name that is no field
    ours, theirs = _copies(receipt, b"\x02")
    assert ours == theirs and ours[0] == "Receipt"
    ours, theirs = _copies(header, no_such_field=1)
    assert ours == theirs and ours[0] == "TypeError"
    copied = header.copy(timestamp=9)
    assert copied.extra_data is header.extra_data  # shared, not deep-copied: immutable


def _signed_dynamic_fee_transaction() -> Any:
    """The inner (pyrlp) object of a signed EIP-1559 transaction with an access list."""
    sender = EthAccount.create()
    raw = sender.sign_transaction(
        {
            "to": sender.address,
            "value": 1,
            "gas": 30_000,
            "maxFeePerGas": 0,
            "maxPriorityFeePerGas": 0,
            "nonce": 3,
            "chainId": 7,
            "type": 2,
            "accessList": [{"address": sender.address, "storageKeys": ["0x" + "01" * 32]}],
        }
    ).raw_transaction
    return PragueTransactionBuilder.decode(bytes(raw))._inner  # type: ignore[attr-defined]


def test_decoding_as_pyrlp() -> None:
    """Both constructor paths: py-evm's own ``__init__`` (accounts, headers, receipts) by
    keyword, pyrlp's (transactions, access lists) positionally."""
    header = PragueBlockHeader(
        block_number=BlockNumber(1), **genesis_params(authority=Address(b"\x01" * 20), timestamp=5)
    )
    receipt = Receipt(state_root=b"\x01", gas_used=5, bloom=0, logs=[Log(b"\x00" * 20, (1,), b"")])
    account = Account(nonce=1, balance=2, storage_root=b"\x03" * 32, code_hash=b"\x04" * 32)
    transaction = _signed_dynamic_fee_transaction()
    assert type(transaction).__init__ is speedups._BASE_INIT  # the positional path is taken
    assert type(header).__init__ is not speedups._BASE_INIT  # and the keyword one
    for obj in (header, receipt, account, transaction):
        cls, encoded = type(obj), rlp.encode(obj)
        ours = outcome(speedups.serializable_deserialize, cls, rlp.decode(encoded))
        theirs = outcome(speedups._ORIGINAL_DESERIALIZE, cls, rlp.decode(encoded))
        assert ours == theirs == (cls.__name__, (tuple(obj), encoded))
        assert rlp.decode(encoded, sedes=cls) == obj  # through the installed one
    short = [b"\x01"]  # one field of four
    ours = outcome(speedups.serializable_deserialize, Account, short)
    assert ours == outcome(speedups._ORIGINAL_DESERIALIZE, Account, short)
    assert ours[0] == "ObjectDeserializationError"
